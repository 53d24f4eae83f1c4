using System.Globalization;

namespace Testbed.Vm.Tests;

public class CultureTests
{
    [Theory]
    [InlineData("tr-TR")] // dotted and dotless i: culture-aware casing and comparison differ from ordinal
    [InlineData("de-DE")] // comma as the decimal separator
    [InlineData("ar-SA")] // native digits and right-to-left text
    [InlineData("th-TH")] // a culture with its own calendar
    public void The_root_and_the_exported_state_do_not_depend_on_the_culture(string name)
    {
        var culture = CultureInfo.GetCultureInfo(name);
        Assert.Equal(name, culture.Name); // a real culture, not the invariant fallback

        var expected = Replay();
        var previous = CultureInfo.CurrentCulture;
        var previousUi = CultureInfo.CurrentUICulture;
        try
        {
            CultureInfo.CurrentCulture = culture;
            CultureInfo.CurrentUICulture = culture;
            var actual = Replay();
            Assert.Equal(expected.Root, actual.Root);
            Assert.Equal(expected.Json, actual.Json);
            Assert.Equal(expected.State, actual.State);
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
            CultureInfo.CurrentUICulture = previousUi;
        }
    }

    private static (string Root, string Json, byte[] State) Replay()
    {
        var vm = new OiscMachine(VmMode.Native);
        string[] ids = ["i", "I", "ı", "İ", "a", "Z", "ä", "é", "e\u0301", "10", "9"];
        var height = 1L;
        foreach (var id in ids)
        {
            vm.ApplyBlock(height++, [new VmTransaction("aa01", "{\"actions\":[{\"action\":\"add_course\",\"course\":{\"id\":\"" + id + "\",\"credits\":1.5,\"big\":12345678901234}},{\"action\":\"vote_proposal\",\"proposal\":{\"id\":\"" + id + "\"}}]}")]);
        }

        vm.ApplyBlock(height, [new VmTransaction("aa01", Subleq.Contract(Subleq.Multiply(-7, 3)))]);
        return (vm.StateRoot.ToString(), vm.ExportStateJson(), vm.SaveState());
    }
}
