using System.Text.Encodings.Web;
using System.Text.Json;

namespace Testbed.Vm;

/// <summary>Writes a state in the seed's vm.state JSON shape (see <see cref="OiscMachine.ExportStateJson"/>).</summary>
internal static class StateJsonExport
{
    public static string Write(VmState state)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            string[] seedOrder = [VmState.StudentsName, VmState.CoursesName, VmState.ProposalsName, VmState.NftsName];
            foreach (var name in seedOrder)
            {
                WriteCollection(writer, state.GetOrCreate(name));
            }

            foreach (var collection in state.Collections)
            {
                if (collection.Count > 0 && Array.IndexOf(seedOrder, collection.Name) < 0)
                {
                    WriteCollection(writer, collection);
                }
            }

            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteCollection(Utf8JsonWriter writer, VmCollection collection)
    {
        writer.WritePropertyName(collection.Name);
        writer.WriteStartObject();
        foreach (var (key, entry) in collection.Entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            writer.WritePropertyName(key);
            writer.WriteStartObject();
            using (var document = entry.Value.Parse())
            {
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    property.WriteTo(writer);
                }
            }

            if (collection.CounterField is { } counter)
            {
                writer.WriteNumber(counter, entry.Counter);
            }

            if (entry.Owner.Length > 0)
            {
                writer.WriteString("owner", entry.Owner);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }
}
