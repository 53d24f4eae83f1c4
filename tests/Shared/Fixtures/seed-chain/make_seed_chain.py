#!/usr/bin/python3
"""Writes a blockchain in the seed prototype's format, made with the libraries the seed uses (PyJWT, python-rsa).

The format, as the seed document (parts 1-3) defines it:
  - a block is an HS256 JWT over {"prev_hash", "timestamp", "transaction_data", "nonce"} with a shared secret;
  - its hash is sha256(token) in hex; the proof of work is that hash starting with DIFFICULTY hex zeros;
  - prev_hash is the previous block's hash, 64 zeros for the first block;
  - one wallet (peer1, a 512-bit RSA key) signs each token with RSA PKCS#1 v1.5 / SHA-256;
  - blocks.txt holds one JSON line per block: {"token": ..., "signature": <hex>}.

Writes OUT_DIR/blocks.txt, OUT_DIR/chain.json (signer, secret, difficulty, block hashes) and the three wallets as
PKCS#1 PEM (OUT_DIR/peer{1,2,3}.pub.pem and .key.pem). Without --contracts the chain holds the seed's four contracts.
The fixture next to this script was made with `./make_seed_chain.py .` (Debian: python3-jwt, python3-rsa).

Usage: make_seed_chain.py OUT_DIR [--contracts FILE.json] [--difficulty 2] [--secret your-secret-key]
"""
import argparse
import datetime
import hashlib
import json
import os
import sys

import jwt
import rsa

# The four smart contracts of the seed document's demonstration.
SEED_CONTRACTS = [
    {"actions": [{"action": "register_student",
                  "student": {"id": "S001", "name": "John Doe", "department": "Computer Science"}}]},
    {"actions": [{"action": "add_course",
                  "course": {"id": "C001", "name": "Blockchain Technology", "department": "Computer Science"}}]},
    {"actions": [{"action": "vote_proposal",
                  "proposal": {"id": "P001", "description": "Increase Research Funding"}}]},
    {"actions": [{"action": "generate_nft",
                  "nft": {"id": "NFT001", "name": "RareArt",
                          "metadata": {"artist": "Alice", "creation_date": "2024-11-23",
                                       "description": "A rare piece of digital art."}}}]},
]


def mine(secret, prev_hash, contract, difficulty):
    """The first nonce whose token hashes to DIFFICULTY leading hex zeros; returns (token, hash)."""
    # The seed stamps blocks with naive UTC ISO time (datetime.utcnow().isoformat()).
    timestamp = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None).isoformat()
    nonce = 0
    while True:
        payload = {"prev_hash": prev_hash, "timestamp": timestamp, "transaction_data": contract, "nonce": nonce}
        token = jwt.encode(payload, secret, algorithm="HS256")
        digest = hashlib.sha256(token.encode()).hexdigest()
        if digest.startswith("0" * difficulty):
            return token, digest
        nonce += 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--contracts", help="a JSON array of contracts, one block each")
    parser.add_argument("--difficulty", type=int, default=2)
    parser.add_argument("--secret", default="your-secret-key")
    args = parser.parse_args()

    contracts = SEED_CONTRACTS
    if args.contracts:
        with open(args.contracts, encoding="utf-8") as f:
            contracts = json.load(f)

    os.makedirs(args.out_dir, exist_ok=True)
    keys = [rsa.newkeys(512) for _ in range(3)]
    for number, (public, private) in enumerate(keys, 1):
        with open(os.path.join(args.out_dir, f"peer{number}.pub.pem"), "wb") as f:
            f.write(public.save_pkcs1())
        with open(os.path.join(args.out_dir, f"peer{number}.key.pem"), "wb") as f:
            f.write(private.save_pkcs1())

    signer = keys[0][1]
    prev_hash = "0" * 64
    hashes = []
    with open(os.path.join(args.out_dir, "blocks.txt"), "w", encoding="utf-8") as blocks:
        for contract in contracts:
            token, digest = mine(args.secret, prev_hash, contract, args.difficulty)
            signature = rsa.sign(token.encode(), signer, "SHA-256")
            blocks.write(json.dumps({"token": token, "signature": signature.hex()}) + "\n")
            hashes.append(digest)
            prev_hash = digest

    with open(os.path.join(args.out_dir, "chain.json"), "w", encoding="utf-8") as f:
        json.dump({"signer": "peer1.pub.pem", "secret": args.secret, "difficulty_hex_zeros": args.difficulty,
                   "block_hashes": hashes}, f, indent=2)
        f.write("\n")
    print(f"{len(hashes)} blocks written to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
