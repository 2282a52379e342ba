namespace DataPlane.Fuzz;

/// <summary>
/// The pipeline harness's input format: a sequence of records, each <c>[length: u16 big-endian][clock step: u8][frame]</c>,
/// so one input is a little conversation (a SYN, its reply, a fragment train) rather than one frame, and the mutator
/// can also stretch the capture clock across conntrack timeouts (a step byte is tenths of a second, 255 = one hour).
/// A truncated last record is used as far as it goes: every byte string is a valid input.
/// </summary>
public static class FrameRecords
{
    public const int MaxFrame = 9216;
    /// <summary>The clock of an input's start, and what one step of the step byte adds (a tenth of a second).</summary>
    public const long StartNs = 1_000_000_000, StepNs = 100_000_000;

    public delegate void FrameAction(Span<byte> frame, long nowNs);

    /// <summary>Calls <paramref name="action"/> for every frame in <paramref name="input"/>, copied into <paramref name="buffer"/>.</summary>
    public static int ForEach(ReadOnlySpan<byte> input, byte[] buffer, FrameAction action)
    {
        long now = StartNs;
        int count = 0;
        while (input.Length >= 3)
        {
            int len = Math.Min((input[0] << 8) | input[1], MaxFrame);
            byte step = input[2];
            input = input[3..];
            len = Math.Min(len, input.Length);
            now += step == 255 ? 3600L * 1_000_000_000 : step * StepNs;
            input[..len].CopyTo(buffer);
            action(buffer.AsSpan(0, len), now);
            input = input[len..];
            count++;
        }
        return count;
    }

    /// <summary>Appends one record for <paramref name="frame"/> to <paramref name="output"/>.</summary>
    public static void Write(Stream output, ReadOnlySpan<byte> frame, byte step)
    {
        int len = Math.Min(frame.Length, MaxFrame);
        output.WriteByte((byte)(len >> 8));
        output.WriteByte((byte)len);
        output.WriteByte(step);
        output.Write(frame[..len]);
    }
}
