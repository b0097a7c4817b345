namespace Qmp.Machine.Devices;

/// <summary>
/// The device lifecycle (DESIGN §4). Constructors and property setters never fail and touch no
/// host resource. <see cref="Realize"/> validates and acquires through a <see cref="RealizeScope"/>
/// that records how to undo each step: a failure undoes every step already taken, in reverse,
/// and the same record makes <see cref="Unrealize"/> a plain replay that cannot fail.
/// </summary>
public abstract class Device
{
    private RealizeScope? _scope;

    /// <summary>The QOM type name, e.g. <c>isa-serial</c>.</summary>
    public abstract string TypeName { get; }

    /// <summary>Whether the user created the device (-device, device_add) rather than the board.</summary>
    public bool UserCreated { get; internal set; }

    /// <summary>The <c>id=</c> property; null for board devices without one.</summary>
    public string? Id { get; init; }

    /// <summary>Whether the device is realized (its properties are frozen).</summary>
    public bool Realized => _scope is not null;

    /// <summary>Realizes the device on <paramref name="context"/>; on failure nothing it did remains.</summary>
    /// <exception cref="DeviceRealizeException">The device could not be realized; the message says why.</exception>
    public void Realize(DeviceContext context)
    {
        if (_scope is not null)
            throw new InvalidOperationException($"{TypeName} is already realized");
        var scope = new RealizeScope(context);
        try
        {
            OnRealize(scope);
        }
        catch (Exception e)
        {
            scope.Undo();
            throw e as DeviceRealizeException ?? new DeviceRealizeException(e.Message, e);
        }
        _scope = scope;
    }

    /// <summary>Releases everything Realize acquired. Cannot fail; nothing happens if not realized.</summary>
    public void Unrealize()
    {
        var scope = _scope;
        if (scope is null)
            return;
        _scope = null;
        OnUnrealize();
        scope.Undo();
    }

    /// <summary>
    /// The device's own QOM properties (qom-list, qom-get, qom-set), beside the generic ones every
    /// device has. Setters only run before realize; the caller refuses writes after it.
    /// </summary>
    public virtual IEnumerable<Qom.QomProperty> QomProperties() => [];

    /// <summary>Throws when a property is set after realize (QEMU: "Attempt to set property … after it was realized").</summary>
    protected void CheckNotRealized(string property)
    {
        if (Realized)
            throw new InvalidOperationException(AfterRealizeMessage(property));
    }

    /// <summary>QEMU's refusal text for setting <paramref name="property"/> on a realized device.</summary>
    public string AfterRealizeMessage(string property) =>
        $"Attempt to set property '{property}' on device '{Id ?? TypeName}' (type '{TypeName}') after it was realized";

    /// <summary>Acquires resources through <paramref name="scope"/> so they are released on failure and unrealize.</summary>
    protected abstract void OnRealize(RealizeScope scope);

    /// <summary>Device-specific teardown before the scope's undo steps run; must not throw.</summary>
    protected virtual void OnUnrealize()
    {
    }
}
