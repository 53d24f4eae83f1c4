using System.Text.Json;

namespace Testbed.Vm;

/// <summary>register_student, add_course and generate_nft: store the action's object under its id (seed: a later one overwrites; native: a duplicate id is refused, an NFT is owned by its minter).</summary>
internal sealed class RecordOperation(string actionName, string field, string collection, bool owned) : IVmOperation
{
    public VmAction Decode(JsonElement action, VmDecodeContext context)
    {
        context.RejectUnknownFields(action, field);
        var element = context.Require(action, field, "the action");
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new VmRejectedException($"'{field}' must be a JSON object, got {VmObject.Describe(element.ValueKind)}");
        }

        var id = context.RequireId(element, "id", field);
        if (owned && context.Mode == VmMode.Native && element.TryGetProperty("owner", out _))
        {
            throw new VmRejectedException($"'{field}.owner' cannot be given: the VM records the minting wallet as owner");
        }

        var value = VmObject.FromElement(element, field, context.Options.MaxValueBytes);
        return new RecordAction(actionName, field, Selector(collection), id, value, owned);
    }

    private static Func<VmState, VmCollection> Selector(string collection) => collection switch
    {
        VmState.StudentsName => static s => s.Students,
        VmState.CoursesName => static s => s.Courses,
        VmState.NftsName => static s => s.Nfts,
        _ => s => s.GetOrCreate(collection),
    };
}

/// <summary>A decoded record-storing action.</summary>
internal sealed class RecordAction(string name, string noun, Func<VmState, VmCollection> select, string id, VmObject value, bool owned) : VmAction
{
    public override string Name => name;

    public override void Execute(VmExecutionContext context)
    {
        var collection = select(context.State);
        if (context.Mode == VmMode.Native)
        {
            if (!collection.TryAdd(id, new StateEntry(value, 0, owned ? context.Sender : "")))
            {
                throw new VmRejectedException($"{noun} '{id}' already exists");
            }
        }
        else
        {
            collection.Set(id, new StateEntry(value, 0, ""));
        }
    }
}
