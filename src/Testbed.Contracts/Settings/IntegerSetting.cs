namespace Testbed.Contracts.Settings;

/// <summary>A whole-number setting with its one range (<see cref="RangeSetting{T}"/>).</summary>
public sealed record IntegerSetting(string Key, long Min, long Max, string Meaning) : RangeSetting<long>(Key, Min, Max, Meaning)
{
    /// <inheritdoc/>
    protected override string Kind => "a whole number";
}
