using MediatR;

namespace Steller.Application.Pipeline;

/// <summary>Every <see cref="IValidated"/> request is checked before its handler runs; a bad one never reaches it.</summary>
public sealed class ValidationBehavior<TRequest, TResponse> : IPipelineBehavior<TRequest, TResponse>
{
    public Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
    {
        if (request is IValidated validated)
        {
            var errors = new FieldErrors();
            validated.Validate(errors);
            if (errors.Any) throw new ValidationFailedException(errors);
        }
        return next();
    }
}
