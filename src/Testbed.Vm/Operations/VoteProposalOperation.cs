using System.Text.Json;

namespace Testbed.Vm;

/// <summary>vote_proposal: the first vote stores the proposal with votes = 1, each later vote adds one (native: once per wallet and proposal).</summary>
internal sealed class VoteProposalOperation : IVmOperation
{
    public VmAction Decode(JsonElement action, VmDecodeContext context)
    {
        context.RejectUnknownFields(action, "proposal");
        var element = context.Require(action, "proposal", "the action");
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new VmRejectedException($"'proposal' must be a JSON object, got {VmObject.Describe(element.ValueKind)}");
        }

        var id = context.RequireId(element, "id", "proposal");
        if (context.Mode == VmMode.Native && element.TryGetProperty("votes", out _))
        {
            throw new VmRejectedException("'proposal.votes' cannot be given: the VM counts the votes");
        }

        // The seed overwrites a given 'votes' with 1 on the first vote, so it never survives: leave it out.
        var value = VmObject.FromElement(element, "proposal", context.Options.MaxValueBytes, "votes");
        var ballot = context.Mode == VmMode.Native ? context.Sender + ":" + id : "";
        return new VoteProposalAction(id, value, ballot);
    }
}

/// <summary>A decoded vote.</summary>
internal sealed class VoteProposalAction(string id, VmObject proposal, string ballot) : VmAction
{
    public override string Name => "vote_proposal";

    public override void Execute(VmExecutionContext context)
    {
        var state = context.State;
        if (context.Mode == VmMode.Native)
        {
            if (!state.Ballots.TryAdd(ballot, new StateEntry(VmObject.Empty, 0, context.Sender)))
            {
                throw new VmRejectedException($"wallet {context.Sender} has already voted on proposal '{id}'");
            }
        }

        if (state.Proposals.TryGet(id, out var existing))
        {
            state.Proposals.Set(id, existing with { Counter = existing.Counter + 1 });
        }
        else
        {
            state.Proposals.Set(id, new StateEntry(proposal, 1, ""));
        }
    }
}
