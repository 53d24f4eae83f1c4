using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Every error a service answers is a problem-details JSON body (RFC 9457), in every environment: a request the service
/// cannot use gets a 4xx whose <c>detail</c> names the problem, anything else a plain 500 whose body carries only a trace
/// id: never a stack trace, a source path, an exception type or an echoed header. Registered by
/// <see cref="Extensions.AddServiceDefaults{TBuilder}"/>, switched on by <see cref="Extensions.MapDefaultEndpoints"/>.
/// </summary>
public sealed partial class ErrorResponses(IProblemDetailsService problems, ILogger<ErrorResponses> logger) : IExceptionHandler
{
    /// <summary>Title of every 500.</summary>
    public const string InternalErrorTitle = "Internal error";

    /// <inheritdoc />
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        ArgumentNullException.ThrowIfNull(exception);
        var (status, detail) = Describe(exception);
        if (status >= 500)
        {
            // The handled exception is no longer logged by the middleware (.NET 10): the log keeps the stack trace, the answer does not.
            LogUnhandled(logger, httpContext.Request.Method, httpContext.Request.Path, exception);
        }

        httpContext.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = Problem(status, detail),
        }).ConfigureAwait(false);
    }

    /// <summary>The status and the detail (null for a 500) an exception is answered with.</summary>
    public static (int Status, string? Detail) Describe(Exception exception) => exception switch
    {
        // Kestrel's and the framework's own "your request is unusable" (body too large, bad binding, bad JSON body, ...).
        BadHttpRequestException bad => (bad.StatusCode is >= 400 and < 500 ? bad.StatusCode : 400, bad.Message),
        JsonException json => (400, $"the request body is not valid JSON: {json.Message}"),
        // The client went away: nobody reads the answer, and it is no server fault.
        OperationCanceledException => (499, "the request was cancelled"),
        _ => (500, null),
    };

    /// <summary>A problem-details body with a fixed title per status.</summary>
    public static ProblemDetails Problem(int status, string? detail) => new()
    {
        Status = status,
        Title = TitleOf(status),
        Detail = status >= 500 ? "The service failed to handle the request; its log has the details (look up the traceId)." : detail,
    };

    /// <summary>The title used for a status.</summary>
    public static string TitleOf(int status) => status switch
    {
        400 => "Bad request",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        409 => "Conflict",
        413 => "Request body too large",
        415 => "Unsupported media type",
        431 => "Request headers too large",
        499 => "Client closed request",
        >= 500 => InternalErrorTitle,
        _ => "Error",
    };

    [LoggerMessage(EventId = 500, Level = LogLevel.Error, Message = "Unhandled exception answering {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, string method, PathString path, Exception exception);
}
