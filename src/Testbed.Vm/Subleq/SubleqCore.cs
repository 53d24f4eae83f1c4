using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Testbed.Vm;

/// <summary>How a SUBLEQ run ended.</summary>
public enum SubleqOutcome
{
    /// <summary>Jumped to a negative address.</summary>
    Halted,

    /// <summary>Used its whole step budget without halting.</summary>
    OutOfGas,

    /// <summary>Read an instruction or operand outside memory.</summary>
    Fault,
}

/// <summary>Result of a SUBLEQ run: outcome, steps executed, final program counter and last operands.</summary>
public readonly record struct SubleqResult(SubleqOutcome Outcome, long Steps, long ProgramCounter, long LastA, long LastB);

/// <summary>
/// The one instruction: at pc the words a, b, c; mem[b] -= mem[a]; if mem[b] &lt;= 0 then pc = c else pc += 3; a
/// negative pc halts. Words are 64-bit and subtraction wraps (two's complement), so every platform agrees.
/// </summary>
public static class SubleqCore
{
    /// <summary>Runs from <paramref name="pc"/> for at most <paramref name="gas"/> steps over <paramref name="memory"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static SubleqResult Run(Span<long> memory, long pc, long gas, long lastA = 0, long lastB = 0)
    {
        // One unsigned compare per address replaces the runtime's checks (and also catches negative operands).
        ref var m = ref MemoryMarshal.GetReference(memory);
        var length = (ulong)memory.Length;
        var steps = 0L;
        var a = lastA;
        var b = lastB;
        while (pc >= 0)
        {
            if (steps == gas)
            {
                return new SubleqResult(SubleqOutcome.OutOfGas, steps, pc, a, b);
            }

            if ((ulong)pc + 2 >= length)
            {
                return new SubleqResult(SubleqOutcome.Fault, steps, pc, a, b);
            }

            ref var ins = ref Unsafe.Add(ref m, (nint)pc);
            var na = ins;
            var nb = Unsafe.Add(ref ins, 1);
            if ((ulong)na >= length || (ulong)nb >= length)
            {
                return new SubleqResult(SubleqOutcome.Fault, steps, pc, na, nb);
            }

            a = na;
            b = nb;
            ref var target = ref Unsafe.Add(ref m, (nint)nb);
            var value = unchecked(target - Unsafe.Add(ref m, (nint)na));
            target = value;
            pc = value <= 0 ? Unsafe.Add(ref ins, 2) : pc + 3;
            steps++;
        }

        return new SubleqResult(SubleqOutcome.Halted, steps, pc, a, b);
    }
}
