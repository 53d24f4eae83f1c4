namespace Testbed.Contracts.Settings;

/// <summary>A setting that may have a fraction (a sampling ratio), with its one range (<see cref="RangeSetting{T}"/>).</summary>
public sealed record NumberSetting(string Key, double Min, double Max, string Meaning) : RangeSetting<double>(Key, Min, Max, Meaning)
{
    /// <inheritdoc/>
    protected override string Kind => "a number";
}
