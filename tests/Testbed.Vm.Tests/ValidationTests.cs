namespace Testbed.Vm.Tests;

public class ValidationTests
{
    private const string Wallet = "a1b2c3";

    public static TheoryData<string, string> BadContracts => new()
    {
        { "not json", "not valid JSON" },
        { "[1,2]", "must be a JSON object {\"actions\":[...]}, got an array" },
        { "{}", "missing field 'actions' in the contract" },
        { """{"actions":{}}""", "'actions' must be an array, got an object" },
        { """{"actions":[],"extra":1}""", "unexpected field 'extra' in the contract" },
        { """{"actions":[42]}""", "an action must be a JSON object, got a number" },
        { """{"actions":[{"student":{"id":"S1"}}]}""", "missing field 'action'" },
        { """{"actions":[{"action":7}]}""", "'action' must be a string, got a number" },
        { """{"actions":[{"action":"launch_rocket"}]}""", "unknown action 'launch_rocket'" },
        { """{"actions":[{"action":"register_student"}]}""", "missing field 'student'" },
        { """{"actions":[{"action":"register_student","student":"S1"}]}""", "'student' must be a JSON object, got a string" },
        { """{"actions":[{"action":"register_student","student":{"name":"x"}}]}""", "missing field 'id' in student" },
        { """{"actions":[{"action":"register_student","student":{"id":5}}]}""", "'student.id' must be a string, got a number" },
        { """{"actions":[{"action":"register_student","student":{"id":""}}]}""", "'student.id' must not be empty" },
        { """{"actions":[{"action":"add_course","course":{"id":"C1","id":"C2"}}]}""", "has the field 'id' twice" },
        { """{"actions":[{"action":"add_course","course":{"id":"C1"},"colour":"red"}]}""", "unexpected field 'colour'" },
        { """{"actions":[{"action":"vote_proposal","proposal":{"id":"P1","votes":100}}]}""", "the VM counts the votes" },
        { """{"actions":[{"action":"generate_nft","nft":{"id":"N1","owner":"ff"}}]}""", "records the minting wallet as owner" },
        { """{"actions":[{"action":"transfer_nft","id":"N1"}]}""", "missing field 'to'" },
        { """{"actions":[{"action":"transfer_nft","id":"N1","to":"XYZ"}]}""", "'transfer_nft.to' must be lowercase hex digits" },
        { """{"actions":[{"action":"subleq","program":"1 2 3"}]}""", "'subleq.program' must be an array of integers, got a string" },
        { """{"actions":[{"action":"subleq","program":[1,2.5,3]}]}""", "'subleq.program[1]' must be an integer in the 64-bit range, got 2.5" },
        { """{"actions":[{"action":"subleq","program":[1,2,3],"offset":99}]}""", "3 words at offset 99 do not fit in memory of 100 words" },
        { """{"actions":[{"action":"subleq","offset":100}]}""", "'subleq.offset' 100 is outside memory" },
        { """{"actions":[{"action":"subleq","gas":0}]}""", "'subleq.gas' must be positive" },
        { """{"actions":[{"action":"subleq","entry":"start"}]}""", "'subleq.entry' must be an integer" },
    };

    [Theory]
    [MemberData(nameof(BadContracts))]
    public void Each_malformed_contract_is_refused_with_a_clear_reason(string contract, string expected)
    {
        var vm = new OiscMachine(VmMode.Native);
        var root = vm.StateRoot;

        var error = Assert.Throws<VmRejectedException>(() => vm.Validate(new VmTransaction(Wallet, contract)));
        Assert.Contains(expected, error.Reason, StringComparison.Ordinal);
        Assert.Equal(0, error.TransactionIndex);

        var inBlock = Assert.Throws<VmRejectedException>(() => vm.ApplyBlock(1, [new VmTransaction(Wallet, SeedContracts.RegisterStudent), new VmTransaction(Wallet, contract)]));
        Assert.Equal(1, inBlock.TransactionIndex);
        Assert.Contains(expected, inBlock.Message, StringComparison.Ordinal);
        Assert.Equal(root, vm.StateRoot);
    }

    [Fact]
    public void The_failing_action_is_named_by_its_index()
    {
        var vm = new OiscMachine(VmMode.Native);
        var contract = """{"actions":[{"action":"add_course","course":{"id":"C1"}},{"action":"add_course","course":{"id":"C2"}},{"action":"nope"}]}""";
        var error = Assert.Throws<VmRejectedException>(() => vm.Validate(new VmTransaction(Wallet, contract)));
        Assert.Equal(2, error.ActionIndex);
        Assert.StartsWith("transaction 0, action 2: unknown action 'nope'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Oversized_values_are_refused()
    {
        var vm = new OiscMachine(VmMode.Native, new VmOptions { MaxValueBytes = 200, MaxIdLength = 8 });
        var longName = new string('x', 300);
        var big = Assert.Throws<VmRejectedException>(() => vm.Validate(new VmTransaction(Wallet, "{\"actions\":[{\"action\":\"register_student\",\"student\":{\"id\":\"S1\",\"name\":\"" + longName + "\"}}]}")));
        Assert.Contains("'student' is too large: more than 200 bytes", big.Reason, StringComparison.Ordinal);

        var longId = Assert.Throws<VmRejectedException>(() => vm.Validate(new VmTransaction(Wallet, """{"actions":[{"action":"register_student","student":{"id":"S123456789"}}]}""")));
        Assert.Contains("'student.id' is too long: 10 characters, at most 8", longId.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Oversized_contracts_too_many_actions_and_deep_nesting_are_refused()
    {
        var vm = new OiscMachine(VmMode.Seed, new VmOptions { MaxContractBytes = 1000, MaxActionsPerTransaction = 3, MaxJsonDepth = 8 });
        var large = Assert.Throws<VmRejectedException>(() => vm.Validate(new VmTransaction("", "{\"actions\":[" + new string(' ', 2000) + "]}")));
        Assert.Contains("the contract is too large: more than 1000 bytes", large.Reason, StringComparison.Ordinal);

        var many = string.Join(",", Enumerable.Repeat("""{"action":"add_course","course":{"id":"C1"}}""", 4));
        var tooMany = Assert.Throws<VmRejectedException>(() => vm.Validate(new VmTransaction("", $$"""{"actions":[{{many}}]}""")));
        Assert.Contains("too many actions: 4, at most 3", tooMany.Reason, StringComparison.Ordinal);

        var deep = """{"actions":[{"action":"add_course","course":{"id":"C1","x":[[[[[[[[1]]]]]]]]}}]}""";
        var tooDeep = Assert.Throws<VmRejectedException>(() => vm.Validate(new VmTransaction("", deep)));
        Assert.Contains("nests deeper than 8", tooDeep.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "sender address must not be empty")]
    [InlineData("ABCD", "sender address must be lowercase hex digits, found 'A'")]
    [InlineData("12 4", "sender address must be lowercase hex digits, found ' '")]
    public void Native_mode_needs_a_hex_sender(string sender, string expected)
    {
        var vm = new OiscMachine(VmMode.Native);
        var error = Assert.Throws<VmRejectedException>(() => vm.Validate(new VmTransaction(sender, SeedContracts.AddCourse)));
        Assert.Equal(-1, error.ActionIndex);
        Assert.Equal(expected, error.Reason);
    }

    [Fact]
    public void A_lone_surrogate_in_an_id_is_refused()
    {
        var vm = new OiscMachine(VmMode.Seed);
        var error = Assert.Throws<VmRejectedException>(() => vm.Validate(new VmTransaction("", """{"actions":[{"action":"add_course","course":{"id":"\ud800"}}]}""")));
        Assert.Contains("lone surrogate", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Seed_mode_ignores_extra_fields_as_the_seed_did_but_not_the_unknown_action()
    {
        var vm = new OiscMachine(VmMode.Seed);
        vm.Validate(new VmTransaction("", """{"actions":[{"action":"add_course","course":{"id":"C1"},"note":"ignored"}]}"""));
        var error = Assert.Throws<VmRejectedException>(() => vm.Validate(new VmTransaction("", """{"actions":[{"action":"transfer_nft","id":"N","to":"ab"}]}""")));
        Assert.Contains("unknown action 'transfer_nft'", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_changes_nothing()
    {
        var vm = new OiscMachine(VmMode.Native);
        vm.ApplyBlock(1, [new VmTransaction(Wallet, SeedContracts.VoteProposal)]);
        var before = vm.SaveState();
        vm.Validate(new VmTransaction("ee", SeedContracts.VoteProposal));
        vm.Validate(new VmTransaction(Wallet, Subleq.Contract(Subleq.Multiply(3, 3))));
        Assert.Equal(before, vm.SaveState());
    }
}
