using System.Text.Json;

namespace Testbed.Vm;

/// <summary>A registered operation: turns one JSON action into a <see cref="VmAction"/>, validating every field (the seed's operation functions, split into decode and execute).</summary>
public interface IVmOperation
{
    /// <summary>Validates and decodes <paramref name="action"/> (a JSON object whose "action" field names this operation); throws <see cref="VmRejectedException"/> on bad input.</summary>
    VmAction Decode(JsonElement action, VmDecodeContext context);
}
