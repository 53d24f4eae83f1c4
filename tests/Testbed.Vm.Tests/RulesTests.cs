using System.Text.Json;

namespace Testbed.Vm.Tests;

public class RulesTests
{
    private const string Alice = "a11ce0";
    private const string Bob = "b0b0";

    private static string Vote(string id, string description = "d") =>
        "{\"actions\":[{\"action\":\"vote_proposal\",\"proposal\":{\"id\":\"" + id + "\",\"description\":\"" + description + "\"}}]}";

    private static string Student(string id, string name) =>
        "{\"actions\":[{\"action\":\"register_student\",\"student\":{\"id\":\"" + id + "\",\"name\":\"" + name + "\"}}]}";

    private static JsonElement Export(OiscMachine vm) => JsonDocument.Parse(vm.ExportStateJson()).RootElement;

    [Fact]
    public void Seed_mode_counts_every_vote_and_keeps_the_first_proposal_text()
    {
        var vm = new OiscMachine(VmMode.Seed);
        vm.ApplyBlock(1, [new VmTransaction("", Vote("P1", "first")), new VmTransaction("", Vote("P1", "second"))]);
        vm.ApplyBlock(2, [new VmTransaction("", Vote("P1", "third"))]);

        var proposal = Export(vm).GetProperty("proposals").GetProperty("P1");
        Assert.Equal(3, proposal.GetProperty("votes").GetInt64());
        Assert.Equal("first", proposal.GetProperty("description").GetString());
    }

    [Fact]
    public void Seed_mode_overwrites_an_earlier_registration()
    {
        var vm = new OiscMachine(VmMode.Seed);
        vm.ApplyBlock(1, [new VmTransaction("", Student("S1", "Ann"))]);
        vm.ApplyBlock(2, [new VmTransaction("", Student("S1", "Bea"))]);
        Assert.Equal("Bea", Export(vm).GetProperty("students").GetProperty("S1").GetProperty("name").GetString());
    }

    [Fact]
    public void Seed_mode_replaces_a_given_vote_count_with_one_as_the_seed_does()
    {
        var vm = new OiscMachine(VmMode.Seed);
        vm.ApplyBlock(1, [new VmTransaction("", """{"actions":[{"action":"vote_proposal","proposal":{"id":"P1","votes":99}}]}""")]);
        Assert.Equal(1, Export(vm).GetProperty("proposals").GetProperty("P1").GetProperty("votes").GetInt64());
    }

    [Fact]
    public void Native_mode_lets_a_wallet_vote_once_per_proposal()
    {
        var vm = new OiscMachine(VmMode.Native);
        vm.ApplyBlock(1, [new VmTransaction(Alice, Vote("P1")), new VmTransaction(Bob, Vote("P1")), new VmTransaction(Alice, Vote("P2"))]);
        var root = vm.StateRoot;

        var error = Assert.Throws<VmRejectedException>(() => vm.ApplyBlock(2, [new VmTransaction(Alice, Vote("P1"))]));
        Assert.Equal($"wallet {Alice} has already voted on proposal 'P1'", error.Reason);
        Assert.Equal(root, vm.StateRoot);
        Assert.Equal(2, Export(vm).GetProperty("proposals").GetProperty("P1").GetProperty("votes").GetInt64());
    }

    [Fact]
    public void Native_mode_refuses_a_duplicate_id()
    {
        var vm = new OiscMachine(VmMode.Native);
        vm.ApplyBlock(1, [new VmTransaction(Alice, Student("S1", "Ann"))]);
        var error = Assert.Throws<VmRejectedException>(() => vm.Validate(new VmTransaction(Bob, Student("S1", "Bea"))));
        Assert.Equal("student 'S1' already exists", error.Reason);
        var again = Assert.Throws<VmRejectedException>(() => vm.Validate(new VmTransaction(Alice, """{"actions":[{"action":"generate_nft","nft":{"id":"N1"}},{"action":"generate_nft","nft":{"id":"N1"}}]}""")));
        Assert.Equal("nft 'N1' already exists", again.Reason);
        Assert.Equal(1, again.ActionIndex);
    }

    [Fact]
    public void An_nft_belongs_to_its_minter_and_only_the_owner_may_transfer_it()
    {
        var vm = new OiscMachine(VmMode.Native);
        vm.ApplyBlock(1, [new VmTransaction(Alice, SeedContracts.GenerateNft)]);
        Assert.Equal(Alice, Export(vm).GetProperty("nfts").GetProperty("NFT001").GetProperty("owner").GetString());

        var transferToBob = $$"""{"actions":[{"action":"transfer_nft","id":"NFT001","to":"{{Bob}}"}]}""";
        var stolen = Assert.Throws<VmRejectedException>(() => vm.ApplyBlock(2, [new VmTransaction(Bob, transferToBob)]));
        Assert.Equal($"only the owner may transfer nft 'NFT001': it belongs to {Alice}, not {Bob}", stolen.Reason);

        vm.ApplyBlock(2, [new VmTransaction(Alice, transferToBob)]);
        Assert.Equal(Bob, Export(vm).GetProperty("nfts").GetProperty("NFT001").GetProperty("owner").GetString());
        Assert.Throws<VmRejectedException>(() => vm.Validate(new VmTransaction(Alice, transferToBob)));

        var missing = Assert.Throws<VmRejectedException>(() => vm.Validate(new VmTransaction(Alice, """{"actions":[{"action":"transfer_nft","id":"NFT404","to":"ab"}]}""")));
        Assert.Equal("nft 'NFT404' does not exist", missing.Reason);
    }

    [Fact]
    public void A_transaction_is_atomic_when_a_later_action_fails()
    {
        var vm = new OiscMachine(VmMode.Native);
        var contract = """{"actions":[{"action":"add_course","course":{"id":"C1"}},{"action":"vote_proposal","proposal":{"id":"P1"}},{"action":"vote_proposal","proposal":{"id":"P1"}}]}""";
        var root = vm.StateRoot;
        var error = Assert.Throws<VmRejectedException>(() => vm.ApplyBlock(1, [new VmTransaction(Alice, contract)]));
        Assert.Equal(2, error.ActionIndex);
        Assert.Equal(root, vm.StateRoot);
        Assert.False(vm.State.Courses.ContainsKey("C1"));
        Assert.Equal(0, vm.State.Ballots.Count);
    }

    [Fact]
    public void The_state_is_read_only_outside_blocks()
    {
        var vm = new OiscMachine(VmMode.Seed);
        vm.ApplyBlock(1, [new VmTransaction("", Student("S1", "Ann"))]);
        var error = Assert.Throws<InvalidOperationException>(() => vm.State.Students.Set("S2", new StateEntry(VmObject.Empty, 0, "")));
        Assert.Equal("the VM state changes only through ApplyBlock and Revert", error.Message);
        Assert.Throws<InvalidOperationException>(() => vm.State.Students.Remove("S1"));
        Assert.True(vm.State.Students.ContainsKey("S1"));
    }

    [Fact]
    public void Operations_can_be_registered_like_the_seed_register_operation()
    {
        var vm = new OiscMachine(VmMode.Seed);
        vm.RegisterOperation("add_room", new AddRoomOperation());
        vm.ApplyBlock(1, [new VmTransaction("", """{"actions":[{"action":"add_room","room":{"id":"R1","seats":30}}]}""")]);
        Assert.Equal(30, Export(vm).GetProperty("rooms").GetProperty("R1").GetProperty("seats").GetInt32());
    }

    private sealed class AddRoomOperation : IVmOperation
    {
        public VmAction Decode(JsonElement action, VmDecodeContext context)
        {
            var room = context.Require(action, "room", "the action");
            var id = context.RequireId(room, "id", "room");
            return new AddRoom(id, context.RequireObject(action, "room"));
        }
    }

    private sealed class AddRoom(string id, VmObject room) : VmAction
    {
        public override string Name => "add_room";

        public override void Execute(VmExecutionContext context) =>
            context.State.GetOrCreate("rooms").Set(id, new StateEntry(room, 0, ""));
    }
}
