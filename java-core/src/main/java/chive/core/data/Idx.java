package chive.core.data;

import chive.core.sim.ChiveException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * The IDX format of the MNIST files (unsigned bytes, big-endian header):
 * magic 0x00000801 for labels (one dimension), 0x00000803 for images
 * (count, rows, cols). Files ending in .gz are gunzipped. Every error names
 * the file and what was expected.
 */
public final class Idx {
  private Idx() {}

  /** Images: {@code count} of rows x cols unsigned bytes, row-major, one image after another. */
  public static final class Images {
    public final int count, rows, cols;
    public final byte[] pixels;

    public Images(int count, int rows, int cols, byte[] pixels) {
      if ((long) count * rows * cols != pixels.length) {
        throw new ChiveException("images: " + pixels.length + " bytes do not make " + count + " images of " + rows + "x" + cols);
      }
      this.count = count;
      this.rows = rows;
      this.cols = cols;
      this.pixels = pixels;
    }

    /** Pixel values 0..255 of image {@code k}, as doubles scaled by {@code scale}, into {@code out}. */
    public void image(int k, double scale, double[] out) {
      int n = rows * cols, base = k * n;
      if (out.length != n) throw new ChiveException("image buffer has " + out.length + " entries, images have " + n);
      for (int i = 0; i < n; i++) out[i] = (pixels[base + i] & 0xFF) * scale;
    }
  }

  /** Opens {@code file}, gunzipping a .gz, as a buffered stream. */
  private static InputStream openRead(Path file) throws IOException {
    if (!Files.isRegularFile(file)) throw new ChiveException(file + ": no such file (expected an MNIST-format IDX file)");
    InputStream in = new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16);
    if (file.toString().endsWith(".gz")) {
      try {
        return new java.io.BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
      } catch (IOException e) {
        in.close();
        throw new ChiveException(file + ": not a valid gzip file (" + e.getMessage() + ")", e);
      }
    }
    return in;
  }

  /** Reads exactly {@code b.length} bytes; returns how many were there (fewer: the stream ended). */
  private static int readUpTo(InputStream in, Path file, byte[] b, int off, int len) {
    int got = 0;
    try {
      while (got < len) {
        int r = in.read(b, off + got, len - got);
        if (r < 0) break;
        got += r;
      }
    } catch (IOException e) {
      throw new ChiveException(file + ": cannot be read (" + e.getMessage() + "): corrupt or truncated"
          + (file.toString().endsWith(".gz") ? " gzip data" : ""), e);
    }
    return got;
  }

  private static void expectEnd(InputStream in, Path file, long declared) {
    try {
      if (in.read() >= 0) {
        throw new ChiveException(file + ": too long: more data follows the " + declared + " bytes its header declares");
      }
    } catch (IOException e) {
      throw new ChiveException(file + ": cannot be read (" + e.getMessage() + ")", e);
    }
  }

  /** Refuses a declared payload that no array or this heap can hold, naming the file and the size. */
  private static void checkSize(Path file, String what, long bytes) {
    if (bytes > Integer.MAX_VALUE - 8) {
      throw new ChiveException(file + ": its header declares " + what + " = " + bytes
          + " bytes, more than one array can hold (2^31 - 9); not an MNIST-like file, or damaged");
    }
    Runtime rt = Runtime.getRuntime();
    long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    if (bytes > free) {
      throw new ChiveException(file + ": its header declares " + what + " = " + bytes + " bytes but only "
          + (free >> 20) + " MiB of heap are free (max " + (rt.maxMemory() >> 20) + " MiB); raise -Xmx or check the file");
    }
  }

  public static Images readImages(Path file) throws IOException {
    try (InputStream in = openRead(file)) {
      byte[] h = new byte[16];
      int got = readUpTo(in, file, h, 0, 4);
      if (got < 4) throw new ChiveException(file + ": " + got + " bytes is too short for an IDX file");
      ByteBuffer hb = ByteBuffer.wrap(h);
      int magic = hb.getInt(0);
      if (magic != 0x803) {
        throw new ChiveException(file + ": expected IDX images (magic 0x00000803), found 0x" + String.format("%08x", magic)
            + (magic == 0x801 ? " (a labels file)" : ""));
      }
      got += readUpTo(in, file, h, 4, 12);
      if (got < 16) throw new ChiveException(file + ": truncated: " + got + " bytes is shorter than an IDX image header (16 bytes)");
      int count = hb.getInt(4), rows = hb.getInt(8), cols = hb.getInt(12);
      if (count < 0 || rows <= 0 || cols <= 0) {
        throw new ChiveException(file + ": impossible dimensions " + count + " x " + rows + " x " + cols);
      }
      long need = (long) count * rows * cols;
      checkSize(file, count + " images x " + rows + " x " + cols, need);
      byte[] px = new byte[(int) need];
      int read = readUpTo(in, file, px, 0, px.length);
      if (read < need) {
        throw new ChiveException(file + ": truncated: " + count + " images of " + rows + "x" + cols + " need "
            + (16 + need) + " bytes, the file has " + (16 + read));
      }
      expectEnd(in, file, 16 + need);
      return new Images(count, rows, cols, px);
    }
  }

  public static byte[] readLabels(Path file) throws IOException {
    try (InputStream in = openRead(file)) {
      byte[] h = new byte[8];
      int got = readUpTo(in, file, h, 0, 8);
      if (got < 8) throw new ChiveException(file + ": " + got + " bytes is too short for an IDX label header (8 bytes)");
      ByteBuffer hb = ByteBuffer.wrap(h);
      int magic = hb.getInt(0);
      if (magic != 0x801) {
        throw new ChiveException(file + ": expected IDX labels (magic 0x00000801), found 0x" + String.format("%08x", magic)
            + (magic == 0x803 ? " (an images file)" : ""));
      }
      int count = hb.getInt(4);
      if (count < 0) throw new ChiveException(file + ": impossible label count " + count);
      checkSize(file, count + " labels", count);
      byte[] out = new byte[count];
      int read = readUpTo(in, file, out, 0, count);
      if (read < count) {
        throw new ChiveException(file + ": truncated: " + count + " labels need " + (8L + count) + " bytes, the file has " + (8L + read));
      }
      expectEnd(in, file, 8L + count);
      for (int k = 0; k < count; k++) {
        if ((out[k] & 0xFF) > 9) throw new ChiveException(file + ": label " + (out[k] & 0xFF) + " at position " + k + " is not a digit class 0..9");
      }
      return out;
    }
  }

  private static OutputStream open(Path file) throws IOException {
    OutputStream o = Files.newOutputStream(file);
    return file.toString().endsWith(".gz") ? new GZIPOutputStream(o) : o;
  }

  public static void writeImages(Path file, Images im) throws IOException {
    try (OutputStream o = open(file)) {
      o.write(ByteBuffer.allocate(16).putInt(0x803).putInt(im.count).putInt(im.rows).putInt(im.cols).array());
      o.write(im.pixels);
    }
  }

  public static void writeLabels(Path file, byte[] labels) throws IOException {
    try (OutputStream o = open(file)) {
      o.write(ByteBuffer.allocate(8).putInt(0x801).putInt(labels.length).array());
      o.write(labels);
    }
  }
}
