using System.Numerics;
using System.Text;
using Microsoft.Data.Sqlite;
using Testbed.Ledger.Blocks;

namespace Testbed.Ledger.Storage;

/// <summary>Whether a stored block is known valid on its branch, only header-checked, or invalid.</summary>
public enum StoredBlockStatus
{
    HeaderValid = 0,
    Valid = 1,
    Invalid = 2,
}

/// <summary>One row of the block index as stored.</summary>
public sealed record StoredBlock(Hash256 Hash, BlockHeader Header, BigInteger CumulativeWork, StoredBlockStatus Status, bool OnMainChain, byte[]? Effects);

/// <summary>The chain state that changes atomically with the tip: VM snapshot and per-sender next nonces.</summary>
public sealed record StoredTip(Hash256 Tip, byte[] VmState, IReadOnlyDictionary<string, long> NextNonces);

/// <summary>Everything one commit changes; applied in a single SQLite transaction so a crash leaves either all or none.</summary>
public sealed class StoreCommit
{
    public List<StoredBlock> Upserts { get; } = [];

    public StoredTip? Tip { get; set; }

    /// <summary>Index rows to remove (their bodies are the caller's to delete once the commit returned).</summary>
    public List<Hash256> Deletes { get; } = [];
}

/// <summary>
/// Chain store: SQLite (WAL, synchronous FULL) holds the block index, effects for undo, the tip, the VM snapshot and the
/// nonces; block bodies (their JWS) are files blocks/&lt;hash&gt;.jws written to a temporary name, flushed to disk and
/// renamed before the index row that names them commits. A block is acknowledged only after that commit returns.
/// </summary>
public sealed class ChainStore : IDisposable
{
    private const string TempSuffix = ".tmp";
    private readonly SqliteConnection _connection;
    private readonly string _blocksDirectory;

    private ChainStore(string directory, SqliteConnection connection)
    {
        Directory = directory;
        _connection = connection;
        _blocksDirectory = Path.Combine(directory, "blocks");
    }

    public string Directory { get; }

    public static ChainStore Open(string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "blocks"));
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(directory, "chain.db"),
            Pooling = false,
            Mode = SqliteOpenMode.ReadWriteCreate,
        }.ToString());
        connection.Open();
        var store = new ChainStore(directory, connection);
        store.Execute("PRAGMA journal_mode=WAL;");
        store.Execute("PRAGMA synchronous=FULL;");
        store.Execute("PRAGMA busy_timeout=10000;");
        store.Execute("""
            CREATE TABLE IF NOT EXISTS blocks (
                hash TEXT PRIMARY KEY,
                height INTEGER NOT NULL,
                prev_hash TEXT NOT NULL,
                header BLOB NOT NULL,
                work TEXT NOT NULL,
                status INTEGER NOT NULL,
                main INTEGER NOT NULL,
                effects BLOB
            );
            CREATE INDEX IF NOT EXISTS blocks_main_height ON blocks(main, height);
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
            """);
        store.RemoveLeftovers();
        return store;
    }

    /// <summary>Writes a block body durably (temp file, fsync, rename); idempotent.</summary>
    public void WriteBody(Hash256 hash, string token)
    {
        var path = BodyPath(hash);
        if (File.Exists(path))
        {
            return;
        }

        var temp = path + TempSuffix;
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(Encoding.ASCII.GetBytes(token));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    public string? ReadBody(Hash256 hash)
    {
        var path = BodyPath(hash);
        return File.Exists(path) ? File.ReadAllText(path, Encoding.ASCII) : null;
    }

    public bool HasBody(Hash256 hash) => File.Exists(BodyPath(hash));

    public void DeleteBody(Hash256 hash) => File.Delete(BodyPath(hash));

    public string BodyPath(Hash256 hash) => Path.Combine(_blocksDirectory, hash + ".jws");

    public void Commit(StoreCommit commit)
    {
        using var transaction = _connection.BeginTransaction();
        foreach (var row in commit.Upserts)
        {
            using var command = _connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO blocks(hash, height, prev_hash, header, work, status, main, effects)
                VALUES ($hash, $height, $prev, $header, $work, $status, $main, $effects)
                ON CONFLICT(hash) DO UPDATE SET status = excluded.status, main = excluded.main, effects = excluded.effects;
                """;
            command.Parameters.AddWithValue("$hash", row.Hash.ToString());
            command.Parameters.AddWithValue("$height", (long)row.Header.Height);
            command.Parameters.AddWithValue("$prev", row.Header.PreviousHash.ToString());
            command.Parameters.AddWithValue("$header", row.Header.ToBytes());
            command.Parameters.AddWithValue("$work", row.CumulativeWork.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
            command.Parameters.AddWithValue("$status", (int)row.Status);
            command.Parameters.AddWithValue("$main", row.OnMainChain ? 1 : 0);
            command.Parameters.AddWithValue("$effects", (object?)row.Effects ?? DBNull.Value);
            command.ExecuteNonQuery();
        }

        foreach (var hash in commit.Deletes)
        {
            using var command = _connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "DELETE FROM blocks WHERE hash = $hash";
            command.Parameters.AddWithValue("$hash", hash.ToString());
            command.ExecuteNonQuery();
        }

        if (commit.Tip is { } tip)
        {
            SetMeta(transaction, "tip", Encoding.ASCII.GetBytes(tip.Tip.ToString()));
            SetMeta(transaction, "vm_state", tip.VmState);
            SetMeta(transaction, "nonces", EncodeNonces(tip.NextNonces));
        }

        transaction.Commit();
    }

    public void SetMeta(string key, byte[] value)
    {
        using var transaction = _connection.BeginTransaction();
        SetMeta(transaction, key, value);
        transaction.Commit();
    }

    public byte[]? GetMeta(string key)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        return command.ExecuteScalar() as byte[];
    }

    public StoredTip? LoadTip()
    {
        var tip = GetMeta("tip");
        var vm = GetMeta("vm_state");
        var nonces = GetMeta("nonces");
        if (tip is null || vm is null || nonces is null)
        {
            return null;
        }

        return new StoredTip(Hash256.Parse(Encoding.ASCII.GetString(tip)), vm, DecodeNonces(nonces));
    }

    public List<StoredBlock> LoadBlocks()
    {
        var rows = new List<StoredBlock>();
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT hash, header, work, status, main, effects FROM blocks ORDER BY height";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var header = BlockHeader.Read((byte[])reader[1]);
            var hash = Hash256.Parse(reader.GetString(0));
            if (header.ComputeHash() != hash)
            {
                throw new InvalidDataException($"index row {hash} holds a header that hashes to {header.ComputeHash()}");
            }

            rows.Add(new StoredBlock(
                hash,
                header,
                BigInteger.Parse("0" + reader.GetString(2), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture),
                (StoredBlockStatus)reader.GetInt32(3),
                reader.GetInt32(4) == 1,
                reader.IsDBNull(5) ? null : (byte[])reader[5]));
        }

        return rows;
    }

    /// <summary>SQLite's own integrity check: "ok" when the database file is sound.</summary>
    public string IntegrityCheck()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check";
        return command.ExecuteScalar() as string ?? "no answer";
    }

    public void Dispose()
    {
        _connection.Dispose();
    }

    /// <summary>
    /// A crash can leave a temp body (write interrupted) or a body whose row never committed (not acknowledged); both are
    /// dropped so the directory holds exactly the indexed blocks.
    /// </summary>
    private void RemoveLeftovers()
    {
        var indexed = new HashSet<string>(StringComparer.Ordinal);
        using (var command = _connection.CreateCommand())
        {
            command.CommandText = "SELECT hash FROM blocks";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                indexed.Add(reader.GetString(0));
            }
        }

        foreach (var file in System.IO.Directory.EnumerateFiles(_blocksDirectory))
        {
            var name = Path.GetFileName(file);
            if (name.EndsWith(TempSuffix, StringComparison.Ordinal) ||
                (name.EndsWith(".jws", StringComparison.Ordinal) && !indexed.Contains(name[..^4])))
            {
                File.Delete(file);
            }
        }
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private void SetMeta(SqliteTransaction transaction, string key, byte[] value)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO meta(key, value) VALUES ($key, $value) ON CONFLICT(key) DO UPDATE SET value = excluded.value";
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$value", value);
        command.ExecuteNonQuery();
    }

    private static byte[] EncodeNonces(IReadOnlyDictionary<string, long> nonces) =>
        Encoding.ASCII.GetBytes(string.Join('\n', nonces.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + " " + p.Value.ToString(System.Globalization.CultureInfo.InvariantCulture))));

    private static Dictionary<string, long> DecodeNonces(byte[] data)
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in Encoding.ASCII.GetString(data).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            result[parts[0]] = long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        }

        return result;
    }
}
