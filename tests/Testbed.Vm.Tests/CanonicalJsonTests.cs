using System.Text;
using System.Text.Json;

namespace Testbed.Vm.Tests;

public class CanonicalJsonTests
{
    private static string Canonical(string json)
    {
        using var document = JsonDocument.Parse(json);
        return VmObject.FromElement(document.RootElement, "value", 4096).ToString();
    }

    [Theory]
    [InlineData("""{"b":1,"a":"x"}""", """{ "a" : "x", "b" : 1 }""")]
    [InlineData("""{"n":"\u00e9\u0041\/"}""", """{"n":"éA/"}""")]
    [InlineData("""{"n":"\u000a\u0009\u0022\u005c"}""", """{"n":"\n\t\"\\"}""")]
    [InlineData("""{"\u0062":{"y":[1,{"q":true,"p":null}],"x":false}}""", """{"b":{"x":false,"y":[1,{"p":null,"q":true}]}}""")]
    [InlineData("""{"e":"\ud83d\ude00"}""", """{"e":"😀"}""")]
    public void Different_spellings_of_one_value_have_the_same_canonical_bytes(string left, string right) =>
        Assert.Equal(Canonical(left), Canonical(right));

    [Fact]
    public void The_canonical_form_is_exactly_as_documented()
    {
        Assert.Equal("{\"a\":\"x\\ny\\u0001\\\"\",\"b\":[1.50,-0,true,null],\"c\":{\"A\":1,\"a\":2}}", Canonical("""{"c":{"a":2,"A":1},"b":[1.50,-0,true,null],"a":"x\ny\u0001\""}"""));
        // Ordinal UTF-16 order: U+FF01 sorts after U+1F600, whose UTF-16 form starts with the surrogate D83D.
        Assert.Equal("{\"😀\":1,\"！\":2}", Canonical("""{"！":2,"😀":1}"""));
        Assert.Equal("{\"k\":\"é\"}"u8.ToArray(), Encoding.UTF8.GetBytes(Canonical("""{"k":"\u00E9"}""")));
    }

    [Fact]
    public void Duplicate_members_and_lone_surrogates_are_refused()
    {
        Assert.Contains("has the field 'a' twice", Assert.Throws<VmRejectedException>(() => Canonical("""{"a":1,"b":{"a":1,"a":2}}""")).Reason, StringComparison.Ordinal);
        Assert.Contains("'value.s[]' contains a lone surrogate", Assert.Throws<VmRejectedException>(() => Canonical("""{"s":["\udc00"]}""")).Reason, StringComparison.Ordinal);
        Assert.Contains("a field name in 'value' contains a lone surrogate", Assert.Throws<VmRejectedException>(() => Canonical("""{"\ud800":1}""")).Reason, StringComparison.Ordinal);
    }
}
