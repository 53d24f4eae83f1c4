using System.Text.Json;

namespace Testbed.Vm;

/// <summary>
/// subleq {"program": [words], "offset": n, "entry": pc, "gas": steps}: loads the words (if any) at offset (default 0)
/// into the persistent memory, then runs from entry (default offset) until a negative jump halts it. Its gas is the
/// given limit or, by default, all the transaction has left.
/// </summary>
internal sealed class SubleqOperation : IVmOperation
{
    public const string ActionName = "subleq";

    public VmAction Decode(JsonElement action, VmDecodeContext context)
    {
        context.RejectUnknownFields(action, "program", "offset", "entry", "gas");
        var words = context.Options.MemoryWords;
        var offset = context.OptionalInt64(action, "offset", "subleq") ?? 0;
        if (offset < 0 || offset >= words)
        {
            throw new VmRejectedException($"'subleq.offset' {offset} is outside memory of {words} words");
        }

        long[] program = [];
        if (action.TryGetProperty("program", out var programElement))
        {
            if (programElement.ValueKind != JsonValueKind.Array)
            {
                throw new VmRejectedException($"'subleq.program' must be an array of integers, got {VmObject.Describe(programElement.ValueKind)}");
            }

            var count = programElement.GetArrayLength();
            if (count > words - offset)
            {
                throw new VmRejectedException($"'subleq.program' is too long: {count} words at offset {offset} do not fit in memory of {words} words");
            }

            program = new long[count];
            var i = 0;
            foreach (var word in programElement.EnumerateArray())
            {
                if (word.ValueKind != JsonValueKind.Number || !word.TryGetInt64(out program[i]))
                {
                    throw new VmRejectedException($"'subleq.program[{i}]' must be an integer in the 64-bit range, got {(word.ValueKind == JsonValueKind.Number ? word.GetRawText() : VmObject.Describe(word.ValueKind))}");
                }

                i++;
            }
        }

        var entry = context.OptionalInt64(action, "entry", "subleq") ?? offset;
        var gas = context.OptionalInt64(action, "gas", "subleq");
        if (gas is <= 0)
        {
            throw new VmRejectedException($"'subleq.gas' must be positive, got {gas}");
        }

        return new SubleqAction(program, (int)offset, entry, gas);
    }
}

/// <summary>A decoded SUBLEQ run.</summary>
internal sealed class SubleqAction(long[] program, int offset, long entry, long? gas) : VmAction
{
    public override string Name => SubleqOperation.ActionName;

    public override void Execute(VmExecutionContext context)
    {
        context.SnapshotMachine();
        var state = context.State;
        program.CopyTo(state.Memory, offset);
        var budget = gas is { } limit && limit < context.GasRemaining ? limit : context.GasRemaining;
        var result = SubleqCore.Run(state.Memory, entry, budget, state.RegisterA, state.RegisterB);
        context.GasRemaining -= result.Steps;
        context.Steps += result.Steps;
        state.RegisterA = result.LastA;
        state.RegisterB = result.LastB;
        state.RegisterC = result.ProgramCounter;
        state.MarkDirty();
        switch (result.Outcome)
        {
            case SubleqOutcome.OutOfGas:
                throw new VmRejectedException(
                    $"SUBLEQ program did not halt within its gas budget of {budget} steps (stopped at pc={result.ProgramCounter})");
            case SubleqOutcome.Fault:
                throw new VmRejectedException(
                    $"SUBLEQ fault after {result.Steps} steps at pc={result.ProgramCounter}: instruction or operand outside memory of {state.Memory.Length} words (a={result.LastA}, b={result.LastB})");
        }
    }
}
