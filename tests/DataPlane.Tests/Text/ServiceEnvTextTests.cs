using DataPlane.IO.Text;

namespace DataPlane.Tests.Text;

/// <summary><c>env</c>'s view: NAME=value lines in the order given.</summary>
public class ServiceEnvTextTests
{
    [Fact]
    public void One_name_value_line_per_variable_in_order()
    {
        var o = new StringWriter { NewLine = "\n" };
        ServiceEnvText.Write(o, [new("WEB_SERVICE_HOST", "10.96.0.10"), new("WEB_PORT", "tcp://10.96.0.10:80"), new("EMPTY", "")]);
        Assert.Equal("WEB_SERVICE_HOST=10.96.0.10\nWEB_PORT=tcp://10.96.0.10:80\nEMPTY=\n", o.ToString());
    }
}
