using System.Collections.Concurrent;
using System.Diagnostics;

namespace Testbed.Vm.Tests;

public sealed class TelemetryTests : IDisposable
{
    private readonly string _peer = "peer-" + Guid.NewGuid().ToString("N");
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ActivityListener _listener;

    public TelemetryTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == VmTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                // Tests run in parallel: keep only this test's spans.
                if (activity.GetTagItem("testbed.peer") as string == _peer)
                {
                    _spans.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public void Each_applied_block_emits_a_vm_replay_span_with_the_design_attributes()
    {
        var vm = new OiscMachine(VmMode.Native, new VmOptions { PeerName = _peer });
        vm.ApplyBlock(7, [new VmTransaction("ab", SeedContracts.AddCourse), new VmTransaction("ab", Subleq.Contract(Subleq.Multiply(2, 3)))]);

        var span = Assert.Single(_spans);
        Assert.Equal("vm.replay", span.OperationName);
        Assert.Equal("Testbed.Vm", span.Source.Name);
        Assert.Equal(7L, span.GetTagItem("block.height"));
        Assert.Equal(2, span.GetTagItem("vm.actions"));
        Assert.Equal(14L, span.GetTagItem("vm.steps"));
        Assert.Equal(vm.StateRoot.ToString(), span.GetTagItem("vm.state_root"));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
    }

    [Fact]
    public void A_rejected_block_is_an_error_span()
    {
        var vm = new OiscMachine(VmMode.Native, new VmOptions { PeerName = _peer });
        var root = vm.StateRoot.ToString();
        Assert.Throws<VmRejectedException>(() => vm.ApplyBlock(3, [new VmTransaction("ab", """{"actions":[{"action":"nope"}]}""")]));

        var span = Assert.Single(_spans);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Contains("unknown action 'nope'", span.StatusDescription, StringComparison.Ordinal);
        Assert.Equal(root, span.GetTagItem("vm.state_root"));
    }
}
