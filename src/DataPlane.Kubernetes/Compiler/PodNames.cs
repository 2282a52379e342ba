using System.Text;
using DataPlane.Kubernetes.Manifests;

namespace DataPlane.Kubernetes.Compiler;

/// <summary>
/// The names the controllers give what they make, computed deterministically.
/// <para>
/// pod-template-hash: the deployment controller hashes the template with FNV-1a 32 (<c>controller.ComputeHash</c>:
/// <c>hashutil.DeepHashObject</c> over the Go struct printed by spew, plus the collisionCount) and encodes the decimal
/// number with <c>rand.SafeEncodeString</c>. We cannot reproduce spew's print of the Go struct, so we hash the
/// template's canonical text instead (keys sorted, <see cref="Pod.ReadyAnnotation"/> left out): same algorithm,
/// same alphabet and shape (e.g. <c>web-7f9c6d6b8d</c>), stable for the same template, new when the template changes,
/// but not the string a real cluster would print.
/// </para>
/// <para>
/// Pod suffixes: upstream uses <c>generateName</c>, 5 random characters of the same alphabet (<c>utilrand.String(5)</c>).
/// We derive them from FNV-1a 32 of "owner/index" (retrying with "owner/index/k" on a clash), so the same manifests
/// always name the same pods.
/// </para>
/// </summary>
public static class PodNames
{
    /// <summary>utilrand's alphabet: no vowels (no words), no 0/1/3 (confusable).</summary>
    public const string Alphabet = "bcdfghjklmnpqrstvwxz2456789";

    public static uint Fnv1a(string text)
    {
        uint h = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            h ^= b;
            h *= 16777619;
        }
        return h;
    }

    /// <summary><c>rand.SafeEncodeString</c>: each byte mapped to the alphabet (byte mod 27).</summary>
    public static string SafeEncode(string s)
    {
        var chars = new char[s.Length];
        for (int i = 0; i < s.Length; i++) chars[i] = Alphabet[s[i] % Alphabet.Length];
        return new string(chars);
    }

    public static string TemplateHash(PodTemplate template) => SafeEncode(Fnv1a(template.Canonical).ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Five alphabet characters from <paramref name="seed"/>.</summary>
    public static string Suffix(string seed)
    {
        uint h = Fnv1a(seed);
        var chars = new char[5];
        for (int i = 0; i < 5; i++)
        {
            chars[i] = Alphabet[(int)(h % (uint)Alphabet.Length)];
            h /= (uint)Alphabet.Length;
        }
        return new string(chars);
    }
}
