using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;
using Testbed.IO;
using Testbed.Ledger.Jws;

namespace Testbed.Ledger.Wallets;

/// <summary>Why a wallet could not be created or loaded.</summary>
public sealed class WalletException(string message) : Exception(message);

/// <summary>A peer's ES256 (P-256) key pair, kept as a PKCS#8 PEM file readable by its owner only.</summary>
public sealed class Wallet : IDisposable
{
    public const string FileName = "wallet.key.pem";

    /// <summary>Largest wallet file read: a P-256 key in PEM is about 250 bytes.</summary>
    public const int MaxFileBytes = 16 * 1024;

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OthersWrite = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;
    private readonly ECDsa _key;

    private Wallet(ECDsa key, string? path)
    {
        _key = key;
        Path = path;
        PublicKey = EcPublicKey.FromParameters(key.ExportParameters(false));
        SecurityKey = new ECDsaSecurityKey(key) { KeyId = Address };
    }

    /// <summary>Lowercase hex of SHA-256 of the uncompressed public point.</summary>
    public string Address => PublicKey.Address.ToString();

    public EcPublicKey PublicKey { get; }

    public ECDsaSecurityKey SecurityKey { get; }

    public string? Path { get; }

    public string PublicKeyPem => _key.ExportSubjectPublicKeyInfoPem();

    /// <summary>A fresh key that lives in memory only (tests, throwaway miners).</summary>
    public static Wallet CreateEphemeral() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256), null);

    public static string FilePath(string directory) => System.IO.Path.Combine(directory, FileName);

    public static bool Exists(string directory) => File.Exists(FilePath(directory));

    /// <summary>Creates a new wallet file; refuses to overwrite an existing one.</summary>
    public static Wallet CreateNew(string directory)
    {
        CheckDirectory(directory);
        var path = FilePath(directory);
        if (File.Exists(path))
        {
            throw new WalletException($"a wallet already exists at {path}; refusing to overwrite it");
        }

        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var temp = path + ".tmp-" + Environment.ProcessId;
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = OwnerOnly;
            }

            using (var stream = new FileStream(temp, options))
            using (var writer = new StreamWriter(stream))
            {
                writer.Write(ecdsa.ExportPkcs8PrivateKeyPem());
                writer.Flush();
                stream.Flush(flushToDisk: true);
            }

            // Mode is set again in case a umask or an existing temp file widened it.
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temp, OwnerOnly);
            }

            // Move without overwrite: two processes racing to create the wallet cannot both win.
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temp);
            ecdsa.Dispose();
            return Load(directory);
        }

        return new Wallet(ecdsa, path);
    }

    /// <summary>Loads the wallet of a data directory; the file must be readable by its owner only.</summary>
    public static Wallet Load(string directory)
    {
        CheckDirectory(directory);
        var path = FilePath(directory);
        var kind = InputFiles.KindOf(path);
        if (kind == FileKind.Missing)
        {
            throw new WalletException($"no wallet at {path}");
        }

        if (kind != FileKind.Regular)
        {
            throw new WalletException($"wallet file {path} is {InputFiles.Describe(kind)}, not a key file");
        }

        var mode = OperatingSystem.IsWindows() ? UnixFileMode.UserRead | UnixFileMode.UserWrite : File.GetUnixFileMode(path);
        if ((mode & ~(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute)) != 0)
        {
            throw new WalletException($"wallet file {path} is accessible by others (mode {Convert.ToString((int)mode, 8)}); it must be 0600");
        }

        string text;
        try
        {
            // The limit is checked on the file's length before a byte is read.
            text = InputFiles.ReadAllText(path, MaxFileBytes, "wallet file");
        }
        catch (InputFileException e)
        {
            throw new WalletException(e.Message);
        }

        var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportFromPem(text);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            ecdsa.Dispose();
            throw new WalletException($"wallet file {path} does not hold an EC private key: {e.Message}");
        }

        if (ecdsa.KeySize != 256 || ecdsa.ExportParameters(false).Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            ecdsa.Dispose();
            throw new WalletException($"wallet file {path} is not a P-256 key");
        }

        return new Wallet(ecdsa, path);
    }

    /// <summary>
    /// Refuses a wallet directory that is not a directory or that group or others may write to: whoever can write there can
    /// replace the key (with one they hold) between two starts.
    /// </summary>
    private static void CheckDirectory(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (directory.Length == 0)
        {
            throw new WalletException("the wallet directory is empty; name a directory");
        }

        var kind = InputFiles.KindOf(directory);
        if (kind == FileKind.Missing)
        {
            return;
        }

        if (kind != FileKind.Directory)
        {
            throw new WalletException($"wallet directory {directory} is {InputFiles.Describe(kind)}, not a directory");
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(directory) & OthersWrite) is var open && open != 0)
        {
            var mode = File.GetUnixFileMode(directory);
            throw new WalletException(
                $"wallet directory {directory} is writable by {((open & UnixFileMode.OtherWrite) != 0 ? "others" : "its group")} (mode {Convert.ToString((int)mode & 0xFFF, 8)}); anyone who can write there can replace the key: chmod 700 {directory}");
        }
    }

    /// <summary>Loads the data directory's wallet, creating it on first start.</summary>
    public static Wallet LoadOrCreate(string directory) => Exists(directory) ? Load(directory) : CreateNew(directory);

    public void Dispose() => _key.Dispose();
}
