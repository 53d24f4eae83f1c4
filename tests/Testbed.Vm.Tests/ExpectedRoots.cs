namespace Testbed.Vm.Tests;

/// <summary>Roots computed independently (tests/Testbed.Vm.Tests/root_reference.py) from the documented algorithm.</summary>
internal static class ExpectedRoots
{
    public const string Empty = "6646f8c756004d6307f04eb0de8530bbd649850f0f46b3427a085e6fe30e20ba";
    public const string SeedFinal = "cce11d38cd1c41289d01952e3cc4a2d5aea97dcd3404a16389a2851526ecfffb";
}
