package chive.core.data;

import static org.junit.jupiter.api.Assertions.*;

import chive.core.sim.ChiveException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IoFormatsTest {
  @TempDir Path dir;

  @Test
  void idxRoundTripsPlainAndGzip() throws IOException {
    byte[] px = new byte[3 * 4 * 5];
    for (int i = 0; i < px.length; i++) px[i] = (byte) (i * 7);
    for (String name : new String[] {"im-idx3-ubyte", "im-idx3-ubyte.gz"}) {
      Path f = dir.resolve(name);
      Idx.writeImages(f, new Idx.Images(3, 4, 5, px));
      Idx.Images r = Idx.readImages(f);
      assertEquals(3, r.count);
      assertEquals(4, r.rows);
      assertEquals(5, r.cols);
      assertArrayEquals(px, r.pixels);
      double[] img = new double[20];
      r.image(1, 0.5, img);
      assertEquals((px[20] & 0xFF) * 0.5, img[0]);
    }
    Path l = dir.resolve("lb-idx1-ubyte.gz");
    Idx.writeLabels(l, new byte[] {3, 1, 4});
    assertArrayEquals(new byte[] {3, 1, 4}, Idx.readLabels(l));
  }

  @Test
  void idxErrorsNameTheFileAndTheProblem() throws IOException {
    Path f = dir.resolve("im");
    Idx.writeImages(f, new Idx.Images(2, 2, 2, new byte[8]));
    try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) { r.setLength(r.length() - 3); }
    ChiveException e = assertThrows(ChiveException.class, () -> Idx.readImages(f));
    assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("truncated"), e.getMessage());
    Path l = dir.resolve("lb");
    Idx.writeLabels(l, new byte[] {1, 2});
    e = assertThrows(ChiveException.class, () -> Idx.readImages(l));
    assertTrue(e.getMessage().contains("a labels file"), e.getMessage());
    Idx.writeLabels(l, new byte[] {1, 12});
    e = assertThrows(ChiveException.class, () -> Idx.readLabels(l));
    assertTrue(e.getMessage().contains("label 12 at position 1"), e.getMessage());
    Path gz = dir.resolve("bad.gz");
    Files.write(gz, new byte[] {1, 2, 3});
    e = assertThrows(ChiveException.class, () -> Idx.readImages(gz));
    assertTrue(e.getMessage().contains("gzip"), e.getMessage());
    e = assertThrows(ChiveException.class, () -> Idx.readImages(dir.resolve("none")));
    assertTrue(e.getMessage().contains("no such file"), e.getMessage());
  }

  @Test
  void npyRoundTripsAndRejectsTruncation() throws IOException {
    Path f = dir.resolve("a.npy");
    float[] a = {1.5f, -2f, 3.25f};
    Npy.write(f, a);
    assertArrayEquals(a, Npy.read(f).floats(f));
    Path d = dir.resolve("d.npy");
    Npy.write(d, new double[] {1e-300, 7});
    assertArrayEquals(new double[] {1e-300, 7}, Npy.read(d).doubles(d));
    Path i = dir.resolve("i.npy");
    Npy.write(i, new int[] {5, -6});
    assertArrayEquals(new int[] {5, -6}, Npy.read(i).ints(i));
    ChiveException e = assertThrows(ChiveException.class, () -> Npy.read(i).floats(i));
    assertTrue(e.getMessage().contains("<f4") && e.getMessage().contains("<i4"), e.getMessage());
    try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) { r.setLength(r.length() - 1); }
    e = assertThrows(ChiveException.class, () -> Npy.read(f));
    assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("truncated"), e.getMessage());
    Files.write(f, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
    e = assertThrows(ChiveException.class, () -> Npy.read(f));
    assertTrue(e.getMessage().contains("bad magic"), e.getMessage());
  }

  @Test
  void npyTensorsKeepTheirShape() throws IOException {
    Path t = dir.resolve("t.npy");
    float[] a = new float[2 * 3 * 4];
    for (int k = 0; k < a.length; k++) a[k] = k * 0.5f;
    Npy.writeTensor(t, a, 2, 3, 4);
    Npy.Array r = Npy.read(t);
    assertArrayEquals(new int[] {2, 3, 4}, r.shape);
    assertArrayEquals(a, r.floats(t));
    ChiveException e = assertThrows(ChiveException.class, () -> Npy.writeTensor(t, a, 5, 5));
    assertTrue(e.getMessage().contains("24 values") && e.getMessage().contains("[5, 5]"), e.getMessage());
    assertArrayEquals(a, Npy.read(t).floats(t), "a refused write leaves the file as it was");
  }

  @Test
  void npyNumbersReadEveryDtypeNumpyWritesForRasters() throws IOException {
    // uint8, int8 and bool in numpy's layout ('|u1', '|i1', '|b1'), then the wider ones
    Path u = dir.resolve("u.npy");
    rawNpy(u, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }", 0);
    Files.write(u, concat(Files.readAllBytes(u), new byte[] {0, 1, (byte) 200, 1}));
    assertArrayEquals(new double[] {0, 1, 200, 1}, Npy.read(u).numbers(u));
    assertArrayEquals(new int[] {2, 2}, Npy.read(u).shape);
    Path i = dir.resolve("i8.npy");
    rawNpy(i, "{'descr': '|i1', 'fortran_order': False, 'shape': (3,), }", 0);
    Files.write(i, concat(Files.readAllBytes(i), new byte[] {-1, 0, 127}));
    assertArrayEquals(new double[] {-1, 0, 127}, Npy.read(i).numbers(i));
    Path b = dir.resolve("b.npy");
    rawNpy(b, "{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", 0);
    Files.write(b, concat(Files.readAllBytes(b), new byte[] {1, 0}));
    assertArrayEquals(new double[] {1, 0}, Npy.read(b).numbers(b));
    Path l = dir.resolve("l.npy");
    Npy.write(l, new long[] {3, -4});
    assertArrayEquals(new double[] {3, -4}, Npy.read(l).numbers(l));
    Path f = dir.resolve("f.npy");
    Npy.write(f, new float[] {0.5f, 2});
    assertArrayEquals(new double[] {0.5, 2}, Npy.read(f).numbers(f));
    ChiveException e = assertThrows(ChiveException.class, () -> Npy.read(u).floats(u));
    assertTrue(e.getMessage().contains("|u1"), e.getMessage());
  }

  @Test
  void npyReadsBigEndianFortranOrderAndUnsignedAsNumpyWritesThem() throws IOException {
    // int32, shape (2, 3, 4), Fortran order (first index fastest), v(i, j, k) = 100 i + 10 j + k
    int[] shape = {2, 3, 4};
    java.nio.ByteBuffer fb = java.nio.ByteBuffer.allocate(4 * 24).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int k = 0; k < 4; k++) for (int j = 0; j < 3; j++) for (int i = 0; i < 2; i++) fb.putInt(100 * i + 10 * j + k);
    Path f = dir.resolve("fortran.npy");
    rawNpy(f, "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3, 4), }", 0);
    Files.write(f, concat(Files.readAllBytes(f), fb.array()));
    Npy.Array a = Npy.read(f);
    assertArrayEquals(shape, a.shape);
    int[] got = a.ints(f);
    for (int i = 0, c = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 4; k++, c++) {
      assertEquals(100 * i + 10 * j + k, got[c], "C-order element (" + i + ", " + j + ", " + k + ")");
    }
    // float64 big-endian, shape (2, 2), Fortran order: [[1.5, -2], [3, 1e300]] held as 1.5, 3, -2, 1e300
    java.nio.ByteBuffer bb = java.nio.ByteBuffer.allocate(32).order(java.nio.ByteOrder.BIG_ENDIAN);
    for (double v : new double[] {1.5, 3, -2, 1e300}) bb.putDouble(v);
    Path g = dir.resolve("big.npy");
    rawNpy(g, "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 2), }", 0);
    Files.write(g, concat(Files.readAllBytes(g), bb.array()));
    Npy.Array b = Npy.read(g);
    assertEquals("<f8", b.dtype, "held little-endian after reading");
    assertArrayEquals(new double[] {1.5, -2, 3, 1e300}, b.doubles(g));
    // uint16 and uint32, big- and little-endian: values above the signed range
    java.nio.ByteBuffer ub = java.nio.ByteBuffer.allocate(6).order(java.nio.ByteOrder.BIG_ENDIAN);
    ub.putShort((short) 65535).putShort((short) 1).putShort((short) 40000);
    Path u = dir.resolve("u2.npy");
    rawNpy(u, "{'descr': '>u2', 'fortran_order': False, 'shape': (3,), }", 0);
    Files.write(u, concat(Files.readAllBytes(u), ub.array()));
    assertArrayEquals(new double[] {65535, 1, 40000}, Npy.read(u).numbers(u));
    java.nio.ByteBuffer wb = java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(-1);
    Path w = dir.resolve("u4.npy");
    rawNpy(w, "{'descr': '<u4', 'fortran_order': False, 'shape': (1,), }", 0);
    Files.write(w, concat(Files.readAllBytes(w), wb.array()));
    assertArrayEquals(new double[] {4294967295.0}, Npy.read(w).numbers(w));
    // bool and int8 written, read back
    Path z = dir.resolve("bool.npy");
    Npy.write(z, new boolean[] {true, false, true});
    assertEquals("|b1", Npy.read(z).dtype);
    assertArrayEquals(new double[] {1, 0, 1}, Npy.read(z).numbers(z));
    Path y = dir.resolve("i1.npy");
    Npy.writeAny(y, new byte[] {-128, 5});
    assertArrayEquals(new double[] {-128, 5}, Npy.read(y).numbers(y));
    // what chive cannot read is refused by name
    Path c = dir.resolve("complex.npy");
    rawNpy(c, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", 8);
    ChiveException e = assertThrows(ChiveException.class, () -> Npy.read(c));
    assertTrue(e.getMessage().contains(c.toString()) && e.getMessage().contains("<c8") && e.getMessage().contains("uint8/16/32"), e.getMessage());
    rawNpy(c, "{'descr': '|f4', 'fortran_order': False, 'shape': (1,), }", 4);
    e = assertThrows(ChiveException.class, () -> Npy.read(c));
    assertTrue(e.getMessage().contains("byte order '|'"), e.getMessage());
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  /** Writes an NPY file with a hand-made header (numpy's layout) and {@code data} bytes after it. */
  static void rawNpy(Path f, String dict, int dataBytes) throws IOException {
    int unpadded = 10 + dict.length() + 1;
    String header = dict + " ".repeat((64 - unpadded % 64) % 64) + "\n";
    java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
    o.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    o.write(header.length() & 0xFF);
    o.write(header.length() >> 8);
    o.write(header.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    o.write(new byte[dataBytes]);
    Files.write(f, o.toByteArray());
  }

  @Test
  void npyHeadersThatLieAreRefusedNamingTheFile() throws IOException {
    Path f = dir.resolve("lie.npy");
    rawNpy(f, "{'descr': '<f4', 'fortran_order': False, 'shape': (abc,), }", 16);
    ChiveException e = assertThrows(ChiveException.class, () -> Npy.read(f));
    assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("malformed shape"), e.getMessage());
    rawNpy(f, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 16);
    e = assertThrows(ChiveException.class, () -> Npy.read(f));
    assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("more elements"), e.getMessage());
    rawNpy(f, "{'descr': '<f4', 'fortran_order': False, 'shape': (3000000000,), }", 16);
    e = assertThrows(ChiveException.class, () -> Npy.read(f));
    assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("too large"), e.getMessage());
    rawNpy(f, "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }", 16);
    e = assertThrows(ChiveException.class, () -> Npy.read(f));
    assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("truncated"), e.getMessage());
    rawNpy(f, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", 16);
    Npy.Array a = Npy.read(f);
    e = assertThrows(ChiveException.class, () -> a.expectShape(f, 4));
    assertTrue(e.getMessage().contains("[2, 2]") && e.getMessage().contains("[4]"), e.getMessage());
    assertEquals(4, a.expectShape(f, 2, 2).floats(f).length);
  }

  /**
   * A gzip bomb: 2.3 MB of gzip (concatenated members, as gzip allows) that
   * expands to 2.35 GB of an IDX image file. Refused from its header, naming
   * the file and the declared size, without allocating it.
   */
  @Test
  void aGzipBombIsRefusedFromItsHeader() throws IOException {
    Path f = dir.resolve("train-images-idx3-ubyte.gz");
    byte[] zeros = new byte[1 << 20];
    java.io.ByteArrayOutputStream member = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(member)) { z.write(zeros); }
    byte[] m = member.toByteArray();
    try (java.io.OutputStream o = new java.io.BufferedOutputStream(Files.newOutputStream(f))) {
      java.io.ByteArrayOutputStream head = new java.io.ByteArrayOutputStream();
      try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(head)) {
        z.write(java.nio.ByteBuffer.allocate(16).putInt(0x803).putInt(3_000_000).putInt(28).putInt(28).array());
      }
      o.write(head.toByteArray());
      for (int k = 0; k < 2241; k++) o.write(m);
    }
    assertTrue(Files.size(f) < 4_000_000, "a small file: " + Files.size(f));
    long before = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
    ChiveException e = assertThrows(ChiveException.class, () -> Idx.readImages(f));
    assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("2352000000 bytes"), e.getMessage());
    long after = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
    assertTrue(after - before < 200_000_000L, "nothing large was allocated");
    // Within array limits but longer than declared: read only what the header says, then refuse.
    Path g = dir.resolve("long-idx3-ubyte.gz");
    try (java.io.OutputStream o = Files.newOutputStream(g)) {
      java.io.ByteArrayOutputStream head = new java.io.ByteArrayOutputStream();
      try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(head)) {
        z.write(java.nio.ByteBuffer.allocate(16).putInt(0x803).putInt(10).putInt(28).putInt(28).array());
      }
      o.write(head.toByteArray());
      for (int k = 0; k < 5; k++) o.write(m);
    }
    e = assertThrows(ChiveException.class, () -> Idx.readImages(g));
    assertTrue(e.getMessage().contains(g.toString()) && e.getMessage().contains("too long"), e.getMessage());
  }
}
