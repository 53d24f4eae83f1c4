namespace Testbed.Vm.Tests;

/// <summary>The seed document's four smart contracts, verbatim in content.</summary>
internal static class SeedContracts
{
    public const string RegisterStudent = """
        {"actions":[{"action":"register_student","student":{"id":"S001","name":"John Doe","department":"Computer Science"}}]}
        """;

    public const string AddCourse = """
        {"actions":[{"action":"add_course","course":{"id":"C001","name":"Blockchain Technology","department":"Computer Science"}}]}
        """;

    public const string VoteProposal = """
        {"actions":[{"action":"vote_proposal","proposal":{"id":"P001","description":"Increase Research Funding"}}]}
        """;

    public const string GenerateNft = """
        {"actions":[{"action":"generate_nft","nft":{"id":"NFT001","name":"RareArt","metadata":{"artist":"Alice","creation_date":"2024-11-23","description":"A rare piece of digital art."}}}]}
        """;

    public static readonly string[] All = [RegisterStudent, AddCourse, VoteProposal, GenerateNft];

    /// <summary>The seed's vm.state after the four contracts, with keys sorted as the VM exports them.</summary>
    public const string FinalState = """
        {"students":{"S001":{"department":"Computer Science","id":"S001","name":"John Doe"}},"courses":{"C001":{"department":"Computer Science","id":"C001","name":"Blockchain Technology"}},"proposals":{"P001":{"description":"Increase Research Funding","id":"P001","votes":1}},"nfts":{"NFT001":{"id":"NFT001","metadata":{"artist":"Alice","creation_date":"2024-11-23","description":"A rare piece of digital art."},"name":"RareArt"}}}
        """;
}
