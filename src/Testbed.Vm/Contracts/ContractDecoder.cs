using System.Text;
using System.Text.Json;

namespace Testbed.Vm;

/// <summary>Parses and validates a contract {"actions":[...]} into decoded actions, with a clear error for every kind of bad input.</summary>
internal static class ContractDecoder
{
    public static DecodedTransaction Decode(VmTransaction transaction, VmMode mode, VmOptions options, OperationRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var sender = transaction.Sender ?? "";
        if (mode == VmMode.Native)
        {
            var problem = VmDecodeContext.AddressProblem(sender, options.MaxAddressLength);
            if (problem is not null)
            {
                throw new VmRejectedException($"sender address {problem}");
            }
        }
        else if (sender.Length > options.MaxAddressLength)
        {
            throw new VmRejectedException($"sender address is too long: {sender.Length} characters, at most {options.MaxAddressLength}");
        }

        var json = transaction.ContractJson ?? throw new VmRejectedException("the contract is missing");
        if (json.Length > options.MaxContractBytes || Encoding.UTF8.GetByteCount(json) > options.MaxContractBytes)
        {
            throw new VmRejectedException($"the contract is too large: more than {options.MaxContractBytes} bytes");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = options.MaxJsonDepth });
        }
        catch (JsonException e)
        {
            throw new VmRejectedException($"the contract is not valid JSON (or nests deeper than {options.MaxJsonDepth}): {e.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new VmRejectedException($"the contract must be a JSON object {{\"actions\":[...]}}, got {VmObject.Describe(root.ValueKind)}");
            }

            foreach (var property in root.EnumerateObject())
            {
                if (!property.NameEquals("actions"))
                {
                    throw new VmRejectedException($"unexpected field '{property.Name}' in the contract (only 'actions' is allowed)");
                }
            }

            if (!root.TryGetProperty("actions", out var actions))
            {
                throw new VmRejectedException("missing field 'actions' in the contract");
            }

            if (actions.ValueKind != JsonValueKind.Array)
            {
                throw new VmRejectedException($"'actions' must be an array, got {VmObject.Describe(actions.ValueKind)}");
            }

            var count = actions.GetArrayLength();
            if (count > options.MaxActionsPerTransaction)
            {
                throw new VmRejectedException($"too many actions: {count}, at most {options.MaxActionsPerTransaction}");
            }

            var context = new VmDecodeContext(mode, options, sender);
            var decoded = new VmAction[count];
            var index = 0;
            foreach (var action in actions.EnumerateArray())
            {
                try
                {
                    decoded[index] = DecodeAction(action, context, registry);
                }
                catch (VmRejectedException e)
                {
                    throw e.At(-1, index);
                }
                catch (InvalidOperationException e)
                {
                    // System.Text.Json refuses to decode a field name escaping a lone surrogate.
                    throw new VmRejectedException(-1, index, $"the action contains text that is not valid Unicode: {e.Message}");
                }

                index++;
            }

            return new DecodedTransaction(sender, decoded, mode, options.MemoryWords);
        }
    }

    private static VmAction DecodeAction(JsonElement action, VmDecodeContext context, OperationRegistry registry)
    {
        if (action.ValueKind != JsonValueKind.Object)
        {
            throw new VmRejectedException($"an action must be a JSON object, got {VmObject.Describe(action.ValueKind)}");
        }

        if (!action.TryGetProperty("action", out var name))
        {
            throw new VmRejectedException("missing field 'action' (the operation's name)");
        }

        if (name.ValueKind != JsonValueKind.String)
        {
            throw new VmRejectedException($"'action' must be a string, got {VmObject.Describe(name.ValueKind)}");
        }

        var actionName = VmObject.ReadString(name, "action");
        if (!registry.TryGet(actionName, out var operation))
        {
            var shown = actionName.Length > 64 ? actionName[..64] + "..." : actionName;
            throw new VmRejectedException($"unknown action '{shown}' (registered: {string.Join(", ", registry.Names)})");
        }

        return operation.Decode(action, context);
    }
}
