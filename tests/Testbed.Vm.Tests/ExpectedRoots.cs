namespace Testbed.Vm.Tests;

/// <summary>Roots computed independently by root_reference.py (next to this file) from the algorithm documented in the VM's README part.</summary>
internal static class ExpectedRoots
{
    public const string Empty = "6646f8c756004d6307f04eb0de8530bbd649850f0f46b3427a085e6fe30e20ba";
    public const string SeedFinal = "6081a40a192dd0b922d47478809add4a70ddefc952dff599e5ee62289b0539c1";
    public const string ManyCourses = "a1051f8307caf945dc86bf01c724c0c2e4c678663d754a71aeaa2c829448d16e";
}
