#!/usr/bin/env python3
"""Independent reference of the Testbed.Vm state root, written from the algorithm in the VM's README part.

Prints the root of the empty state and of the seed document's final state (after its four contracts)."""
import hashlib
import json
import struct

TARGET_BUCKET_SIZE = 32
MAX_BUCKETS = 4096


def buckets_for(count):
    buckets = 1
    while buckets < MAX_BUCKETS and buckets * TARGET_BUCKET_SIZE < count:
        buckets <<= 1
    return buckets


def canonical(obj):
    # Sorted members, no whitespace, raw UTF-8, only '"', '\\' and controls escaped (Python's rule is the same).
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def utf16_units(text):
    data = text.encode("utf-16-be")
    return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]


def bucket_of(key, buckets):
    h = 2166136261
    for unit in utf16_units(key):
        h = ((h ^ unit) * 16777619) & 0xFFFFFFFF
    return h & (buckets - 1)


def collection_hash(entries):
    buckets = {}
    count = buckets_for(len(entries))
    for key in entries:
        buckets.setdefault(bucket_of(key, count), []).append(key)
    summary = b""
    for index in sorted(buckets):
        leaves = b""
        for key in sorted(buckets[index], key=lambda k: k.encode("utf-16-be")):
            value, counter, owner = entries[key]
            k = key.encode("utf-8")
            o = owner.encode("utf-8")
            leaves += struct.pack(">I", len(k)) + k + hashlib.sha256(canonical(value)).digest()
            leaves += struct.pack(">q", counter) + struct.pack(">I", len(o)) + o
        summary += struct.pack(">II", index, len(buckets[index])) + hashlib.sha256(leaves).digest()
    return hashlib.sha256(summary).digest()


def root(collections, memory=None, registers=(0, 0, 0)):
    memory = memory or [0] * 100
    head = b"testbed-vm-state-v1" + struct.pack(">I", len(memory))
    head += b"".join(struct.pack(">q", w) for w in memory) + struct.pack(">qqq", *registers)
    data = hashlib.sha256(head).digest()
    for name in sorted(collections, key=lambda n: n.encode("utf-16-be")):
        entries = collections[name]
        if entries:
            n = name.encode("utf-8")
            data += struct.pack(">I", len(n)) + n + struct.pack(">I", len(entries)) + collection_hash(entries)
    return hashlib.sha256(data).hexdigest()


print("empty", root({}))
seed = {
    "students": {"S001": ({"id": "S001", "name": "John Doe", "department": "Computer Science"}, 0, "")},
    "courses": {"C001": ({"id": "C001", "name": "Blockchain Technology", "department": "Computer Science"}, 0, "")},
    "proposals": {"P001": ({"id": "P001", "description": "Increase Research Funding"}, 1, "")},
    "nfts": {"NFT001": ({"id": "NFT001", "name": "RareArt", "metadata": {"artist": "Alice", "creation_date": "2024-11-23", "description": "A rare piece of digital art."}}, 0, "")},
}
print("seed_final", root(seed))

# 100 courses C0..C99 plus two keys whose UTF-16 order differs from code point order (4 buckets).
many = {f"C{i}": ({"id": f"C{i}"}, 0, "") for i in range(100)}
many["C\U0001F600"] = ({"id": "C\U0001F600"}, 0, "")
many["C\uFF01"] = ({"id": "C\uFF01"}, 0, "")
print("many_courses", root({"courses": many}))
