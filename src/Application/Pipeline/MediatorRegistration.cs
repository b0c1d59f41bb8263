using System.Reflection;
using MediatR;
using Microsoft.Extensions.DependencyInjection;

namespace Steller.Application.Pipeline;

/// <summary>
/// MediatR 5.1 registered by hand (its DI package is not served here): the mediator, every request handler of the given
/// assemblies, and the pipeline behaviours in order, outermost first: metrics and logging, then validation.
/// </summary>
public static class MediatorRegistration
{
    public static IServiceCollection AddUseCases(this IServiceCollection services, params Assembly[] assemblies)
    {
        if (services.All(s => s.ServiceType != typeof(IMediator)))
        {
            services.AddTransient<ServiceFactory>(sp => sp.GetService!);
            services.AddTransient<IMediator, Mediator>();
            services.AddTransient(typeof(IPipelineBehavior<,>), typeof(UseCaseBehavior<,>));
            services.AddTransient(typeof(IPipelineBehavior<,>), typeof(ValidationBehavior<,>));
        }
        foreach (var type in assemblies.SelectMany(a => a.GetTypes())
            .Where(t => t is { IsClass: true, IsAbstract: false, IsGenericTypeDefinition: false }))
            foreach (var contract in type.GetInterfaces()
                .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IRequestHandler<,>)))
                services.AddTransient(contract, type);
        return services;
    }
}
