using System.Text.Json;

namespace Testbed.Vm;

/// <summary>transfer_nft {"id": nft id, "to": wallet}: native mode only; only the current owner may transfer.</summary>
internal sealed class TransferNftOperation : IVmOperation
{
    public VmAction Decode(JsonElement action, VmDecodeContext context)
    {
        context.RejectUnknownFields(action, "id", "to");
        var id = context.RequireId(action, "id", "transfer_nft");
        var to = context.RequireAddress(action, "to", "transfer_nft");
        return new TransferNftAction(id, to);
    }
}

/// <summary>A decoded NFT transfer.</summary>
internal sealed class TransferNftAction(string id, string to) : VmAction
{
    public override string Name => "transfer_nft";

    public override void Execute(VmExecutionContext context)
    {
        var nfts = context.State.Nfts;
        if (!nfts.TryGet(id, out var entry))
        {
            throw new VmRejectedException($"nft '{id}' does not exist");
        }

        if (!string.Equals(entry.Owner, context.Sender, StringComparison.Ordinal))
        {
            throw new VmRejectedException($"only the owner may transfer nft '{id}': it belongs to {entry.Owner}, not {context.Sender}");
        }

        nfts.Set(id, entry with { Owner = to });
    }
}
