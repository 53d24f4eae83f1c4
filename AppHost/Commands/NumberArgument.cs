using System.Globalization;

namespace Testbed.AppHost.Commands;

/// <summary>A numeric argument of a command: its name, its label in the dashboard's dialog, and the value the dialog starts with.</summary>
public sealed record NumberArgument(string Name, string Label, string Initial)
{
    /// <summary>The argument's field in the command's dialog.</summary>
    public InteractionInput Input(bool required = false) =>
        new() { Name = Name, Label = Label, InputType = InputType.Number, Value = Initial, Required = required };

    /// <summary>The argument's value in <paramref name="context"/>; absent (an older client, a test) means <paramref name="fallback"/>.</summary>
    public double Read(ExecuteCommandContext context, double fallback) =>
        context.Arguments is { } arguments && arguments.TryGetByName(Name, out var input) && input.Value is { Length: > 0 } text
            ? double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)
            : fallback;
}
