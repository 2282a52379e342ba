namespace DataPlane.IO.Text;

/// <summary><c>dataplane env</c>: the service variables, one NAME=value per line in the order given, as <c>env</c> prints them.</summary>
public static class ServiceEnvText
{
    public static void Write(TextWriter w, IEnumerable<KeyValuePair<string, string>> variables)
    {
        foreach (var (k, v) in variables) w.WriteLine($"{k}={v}");
    }
}
