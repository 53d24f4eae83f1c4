namespace Testbed.Contracts.Settings;

/// <summary>A duration setting (<c>[d.]hh:mm:ss[.fffffff]</c>, as the configuration binder reads it), with its one range (<see cref="RangeSetting{T}"/>).</summary>
public sealed record DurationSetting(string Key, TimeSpan Min, TimeSpan Max, string Meaning) : RangeSetting<TimeSpan>(Key, Min, Max, Meaning)
{
    /// <inheritdoc/>
    protected override string Kind => "a duration";
}
