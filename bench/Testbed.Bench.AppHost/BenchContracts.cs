namespace Testbed.Bench.AppHost;

/// <summary>The transactions the headless benches put in blocks: one seed-contract action each, as the chaos load does.</summary>
internal static class BenchContracts
{
    /// <summary>The actions (a JSON array) registering student <c>B-<paramref name="id"/></c>; ids must be unique on a chain.</summary>
    public static string RegisterStudent(string id) =>
        $$$"""[{"action":"register_student","student":{"id":"B-{{{id}}}","name":"Bench Load","department":"Benchmarks"}}]""";
}
