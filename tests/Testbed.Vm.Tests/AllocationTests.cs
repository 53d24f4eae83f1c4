namespace Testbed.Vm.Tests;

public class AllocationTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void Replaying_decoded_seed_actions_allocates_only_the_blocks_undo_record()
    {
        var vm = new OiscMachine(VmMode.Seed);
        var decoded = Enumerable.Range(0, 1024)
            .SelectMany(i => new[]
            {
                $"{{\"actions\":[{{\"action\":\"register_student\",\"student\":{{\"id\":\"S{i}\",\"name\":\"n\"}}}}]}}",
                $"{{\"actions\":[{{\"action\":\"vote_proposal\",\"proposal\":{{\"id\":\"P{i % 10}\"}}}}]}}",
            })
            .Select(c => vm.Decode(new VmTransaction("", c)))
            .ToArray();
        vm.ApplyDecodedBlock(1, decoded); // warm: dictionaries and buffers reach their steady size
        vm.ApplyDecodedBlock(2, decoded);

        var before = GC.GetAllocatedBytesForCurrentThread();
        vm.ApplyDecodedBlock(3, decoded);
        var perAction = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)decoded.Length;
        output.WriteLine($"{perAction:F1} bytes allocated per action");

        // The undo journal copy and its effects records are about 2 x 48 bytes per action; anything per-action beyond
        // that (boxing, closures, strings) would show up here.
        Assert.True(perAction < 160, $"{perAction:F0} bytes allocated per action");
    }
}
