package chive.core.data;

import chive.core.sim.ChiveException;
import java.io.ByteArrayOutputStream;
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

  private static byte[] readAll(Path file) throws IOException {
    if (!Files.exists(file)) throw new ChiveException(file + ": no such file (expected an MNIST-format IDX file)");
    byte[] raw = Files.readAllBytes(file);
    if (file.toString().endsWith(".gz")) {
      try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(raw))) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length * 4);
        in.transferTo(out);
        return out.toByteArray();
      } catch (IOException e) {
        throw new ChiveException(file + ": not a valid gzip file (" + e.getMessage() + ")", e);
      }
    }
    return raw;
  }

  public static Images readImages(Path file) throws IOException {
    byte[] b = readAll(file);
    if (b.length < 4) throw new ChiveException(file + ": " + b.length + " bytes is too short for an IDX file");
    ByteBuffer h = ByteBuffer.wrap(b);
    int magic = h.getInt(0);
    if (magic != 0x803) {
      throw new ChiveException(file + ": expected IDX images (magic 0x00000803), found 0x" + String.format("%08x", magic)
          + (magic == 0x801 ? " (a labels file)" : ""));
    }
    if (b.length < 16) throw new ChiveException(file + ": truncated: " + b.length + " bytes is shorter than an IDX image header (16 bytes)");
    int count = h.getInt(4), rows = h.getInt(8), cols = h.getInt(12);
    if (count < 0 || rows <= 0 || cols <= 0) {
      throw new ChiveException(file + ": impossible dimensions " + count + " x " + rows + " x " + cols);
    }
    long need = 16L + (long) count * rows * cols;
    if (b.length != need) {
      throw new ChiveException(file + ": " + (b.length < need ? "truncated" : "too long") + ": " + count + " images of "
          + rows + "x" + cols + " need " + need + " bytes, the file has " + b.length);
    }
    byte[] px = new byte[b.length - 16];
    System.arraycopy(b, 16, px, 0, px.length);
    return new Images(count, rows, cols, px);
  }

  public static byte[] readLabels(Path file) throws IOException {
    byte[] b = readAll(file);
    if (b.length < 8) throw new ChiveException(file + ": " + b.length + " bytes is too short for an IDX label header (8 bytes)");
    ByteBuffer h = ByteBuffer.wrap(b);
    int magic = h.getInt(0);
    if (magic != 0x801) {
      throw new ChiveException(file + ": expected IDX labels (magic 0x00000801), found 0x" + String.format("%08x", magic)
          + (magic == 0x803 ? " (an images file)" : ""));
    }
    int count = h.getInt(4);
    if (count < 0 || b.length != 8L + count) {
      throw new ChiveException(file + ": " + (b.length < 8L + count ? "truncated" : "too long") + ": " + count
          + " labels need " + (8L + count) + " bytes, the file has " + b.length);
    }
    byte[] out = new byte[count];
    System.arraycopy(b, 8, out, 0, count);
    for (int k = 0; k < count; k++) {
      if ((out[k] & 0xFF) > 9) throw new ChiveException(file + ": label " + (out[k] & 0xFF) + " at position " + k + " is not a digit class 0..9");
    }
    return out;
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
