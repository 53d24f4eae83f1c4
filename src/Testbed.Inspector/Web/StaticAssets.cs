using System.Collections.Frozen;

namespace Testbed.Inspector.Web;

/// <summary>The web UI's files, embedded in the assembly (wwwroot/), served with their content type.</summary>
internal static class StaticAssets
{
    private const string Prefix = "wwwroot/";

    private static readonly FrozenDictionary<string, (byte[] Bytes, string ContentType)> Files = Load();

    /// <summary>Serves <paramref name="path"/> ("" is index.html); false when there is no such file.</summary>
    public static async Task<bool> TryServeAsync(HttpContext context, string path)
    {
        var name = string.IsNullOrEmpty(path) || path == "/" ? "index.html" : path.TrimStart('/');
        if (!Files.TryGetValue(name, out var file))
        {
            return false;
        }

        context.Response.ContentType = file.ContentType;
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.Body.WriteAsync(file.Bytes, context.RequestAborted);
        return true;
    }

    private static FrozenDictionary<string, (byte[], string)> Load()
    {
        var assembly = typeof(StaticAssets).Assembly;
        var files = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var name = resource[Prefix.Length..].Replace('\\', '/');
            files[name] = (buffer.ToArray(), ContentType(name));
        }

        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
