using System.Text.Json;

namespace Testbed.Contracts.Peers;

/// <summary>Body of <c>POST /tx</c> with an unsigned contract: its actions, which the peer signs with its wallet at its next nonce.</summary>
public sealed record ContractSubmission(JsonElement Actions);

/// <summary>Answer (202) to <c>POST /tx</c>: the transaction's id, sender and nonce.</summary>
public sealed record TransactionAccepted(string Id, string Sender, long Nonce);
