namespace Testbed.Chaos.Tests.Checking;

/// <summary>The start time, block hashes and state roots the hand-made histories of the checking tests are built from.</summary>
internal static class HistoryValues
{
    public const string TipA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    public const string TipB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    public const string TipC = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
    public const string Bad = "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd";
    public const string Root1 = "1111111111111111111111111111111111111111111111111111111111111111";
    public const string Root2 = "2222222222222222222222222222222222222222222222222222222222222222";

    public static readonly DateTimeOffset T0 = new(2026, 11, 24, 4, 0, 0, TimeSpan.Zero);
}
