package chive.core.data;

import chive.core.sim.ChiveException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy's .npy format (version 1.0), little-endian, C order: float32, float64,
 * int32 and int16 arrays of one or two dimensions, as numpy.load reads them.
 * Reads check the magic string, the header, the dtype and the length, and
 * name the file in every error.
 */
public final class Npy {
  private Npy() {}

  /** An array read from a file: its dtype ('&lt;f4', '&lt;f8', '&lt;i4', '&lt;i2'), shape and data. */
  public static final class Array {
    public final String dtype;
    public final int[] shape;
    private final ByteBuffer data;

    Array(String dtype, int[] shape, ByteBuffer data) {
      this.dtype = dtype;
      this.shape = shape;
      this.data = data;
    }

    public int length() {
      int n = 1;
      for (int s : shape) n *= s;
      return n;
    }

    public float[] floats(Path file) {
      need(file, "<f4");
      float[] a = new float[length()];
      data.asFloatBuffer().get(a);
      return a;
    }

    public double[] doubles(Path file) {
      need(file, "<f8");
      double[] a = new double[length()];
      data.asDoubleBuffer().get(a);
      return a;
    }

    public int[] ints(Path file) {
      need(file, "<i4");
      int[] a = new int[length()];
      data.asIntBuffer().get(a);
      return a;
    }

    public short[] shorts(Path file) {
      need(file, "<i2");
      short[] a = new short[length()];
      data.asShortBuffer().get(a);
      return a;
    }

    private void need(Path file, String want) {
      if (!dtype.equals(want)) {
        throw new ChiveException(file + ": expected an array of dtype " + want + " but the file holds " + dtype);
      }
    }
  }

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

  public static void write(Path file, float[] a) throws IOException { write(file, "<f4", new int[] {a.length}, bytes(a)); }
  public static void write(Path file, double[] a) throws IOException { write(file, "<f8", new int[] {a.length}, bytes(a)); }
  public static void write(Path file, int[] a) throws IOException { write(file, "<i4", new int[] {a.length}, bytes(a)); }
  public static void write(Path file, short[] a) throws IOException { write(file, "<i2", new int[] {a.length}, bytes(a)); }

  /** A float32 matrix of {@code rows} x {@code cols} from row-major data. */
  public static void writeMatrix(Path file, float[] rowMajor, int rows, int cols) throws IOException {
    if ((long) rows * cols != rowMajor.length) {
      throw new ChiveException(file + ": " + rowMajor.length + " values do not make a " + rows + " x " + cols + " matrix");
    }
    write(file, "<f4", new int[] {rows, cols}, bytes(rowMajor));
  }

  private static ByteBuffer buf(int n) { return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN); }
  private static byte[] bytes(float[] a) { ByteBuffer b = buf(4 * a.length); b.asFloatBuffer().put(a); return b.array(); }
  private static byte[] bytes(double[] a) { ByteBuffer b = buf(8 * a.length); b.asDoubleBuffer().put(a); return b.array(); }
  private static byte[] bytes(int[] a) { ByteBuffer b = buf(4 * a.length); b.asIntBuffer().put(a); return b.array(); }
  private static byte[] bytes(short[] a) { ByteBuffer b = buf(2 * a.length); b.asShortBuffer().put(a); return b.array(); }

  private static void write(Path file, String dtype, int[] shape, byte[] data) throws IOException {
    StringBuilder sh = new StringBuilder("(");
    for (int k = 0; k < shape.length; k++) sh.append(shape[k]).append(shape.length == 1 ? "," : (k + 1 < shape.length ? ", " : ""));
    sh.append(")");
    String dict = "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': " + sh + ", }";
    int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
    int pad = (64 - unpadded % 64) % 64;
    String header = dict + " ".repeat(pad) + "\n";
    ByteBuffer out = ByteBuffer.allocate(MAGIC.length + 4 + header.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
    out.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
    out.put(header.getBytes(StandardCharsets.US_ASCII)).put(data);
    Files.write(file, out.array());
  }

  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']+)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  /** Reads {@code file}; throws ChiveException naming the file for anything malformed or truncated. */
  public static Array read(Path file) throws IOException {
    if (!Files.exists(file)) throw new ChiveException(file + ": no such file (expected a .npy array)");
    byte[] all = Files.readAllBytes(file);
    if (all.length < 10) throw new ChiveException(file + ": truncated: " + all.length + " bytes is shorter than a .npy header");
    for (int k = 0; k < MAGIC.length; k++) {
      if (all[k] != MAGIC[k]) throw new ChiveException(file + ": not a .npy file (bad magic string)");
    }
    int major = all[6];
    ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
    int headerLen;
    int start;
    if (major == 1) {
      headerLen = b.getShort(8) & 0xFFFF;
      start = 10;
    } else if (major == 2 || major == 3) {
      if (all.length < 12) throw new ChiveException(file + ": truncated .npy header");
      headerLen = b.getInt(8);
      start = 12;
    } else {
      throw new ChiveException(file + ": unsupported .npy version " + major);
    }
    if (start + headerLen > all.length) {
      throw new ChiveException(file + ": truncated: the header needs " + (start + headerLen) + " bytes, the file has " + all.length);
    }
    String header = new String(all, start, headerLen, StandardCharsets.ISO_8859_1);
    Matcher d = DESCR.matcher(header), f = FORTRAN.matcher(header), s = SHAPE.matcher(header);
    if (!d.find() || !f.find() || !s.find()) throw new ChiveException(file + ": malformed .npy header: " + header.trim());
    String dtype = d.group(1);
    int item;
    switch (dtype) {
      case "<f4": case "<i4": item = 4; break;
      case "<f8": item = 8; break;
      case "<i2": item = 2; break;
      default: throw new ChiveException(file + ": unsupported dtype " + dtype + " (chive reads <f4, <f8, <i4, <i2)");
    }
    if (f.group(1).equals("True")) throw new ChiveException(file + ": Fortran-ordered arrays are not supported");
    String[] dims = s.group(1).trim().isEmpty() ? new String[0] : s.group(1).split(",");
    int[] shape = java.util.Arrays.stream(dims).map(String::trim).filter(x -> !x.isEmpty()).mapToInt(Integer::parseInt).toArray();
    long n = 1;
    for (int x : shape) n *= x;
    long need = n * item;
    int dataStart = start + headerLen;
    if (all.length - dataStart != need) {
      throw new ChiveException(file + ": " + (all.length - dataStart < need ? "truncated" : "too long")
          + ": shape " + java.util.Arrays.toString(shape) + " of " + dtype + " needs " + need
          + " bytes of data, found " + (all.length - dataStart));
    }
    ByteBuffer data = ByteBuffer.wrap(all, dataStart, (int) need).slice().order(ByteOrder.LITTLE_ENDIAN);
    return new Array(dtype, shape, data);
  }
}
