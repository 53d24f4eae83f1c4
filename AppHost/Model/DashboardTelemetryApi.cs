using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Testbed.AppHost.Model;

/// <summary>Where the Aspire dashboard of this run serves its telemetry API, and the key it asks for.</summary>
/// <param name="Url">The dashboard's frontend URL (the API is under /api/telemetry).</param>
/// <param name="ApiKey">The x-api-key the AppHost generated for this run (configuration AppHost:DashboardApiKey).</param>
public sealed record DashboardTelemetryApi(string Url, string ApiKey)
{
    /// <summary>The dashboard resource's name in every Aspire app model.</summary>
    public const string DashboardResourceName = "aspire-dashboard";

    /// <summary>The dashboard's API, or null when the dashboard is off (tests without EnableDashboard, headless verbs).</summary>
    public static DashboardTelemetryApi? Find(DistributedApplicationExecutionContext context, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration["AppHost:DashboardApiKey"] is not { Length: > 0 } key)
        {
            return null;
        }

        var model = context.Services.GetRequiredService<DistributedApplicationModel>();
        var endpoint = model.Resources.FirstOrDefault(r => r.Name == DashboardResourceName)?.Annotations.OfType<EndpointAnnotation>()
            .FirstOrDefault(e => e.UriScheme is "http" or "https" && e.Name is "http" or "https");
        // Only the dashboard resource's own endpoint: ASPNETCORE_URLS is the AppHost's, and under Aspire.Hosting.Testing it
        // names no dashboard at all.
        return endpoint?.AllocatedEndpoint?.UriString is { } url ? new DashboardTelemetryApi(url, key) : null;
    }
}
