package chive.core.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chive.core.sim.ChiveException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicDirTest {
  @TempDir Path tmp;

  private static AtomicDir.Writer content(String tag) {
    return dir -> {
      Files.writeString(dir.resolve("a.txt"), "alpha " + tag);
      Files.createDirectories(dir.resolve("sub"));
      Files.writeString(dir.resolve("sub/b.txt"), "beta " + tag + " ".repeat(1000));
    };
  }

  private static String tagOf(Path dir) throws IOException {
    Manifest.verify(dir);
    return Files.readString(dir.resolve("a.txt")).substring(6);
  }

  private List<String> siblings() throws IOException {
    try (Stream<Path> s = Files.list(tmp)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".chive-lock")).sorted().collect(Collectors.toList());
    }
  }

  @Test
  void saveReplaceAndVerify() throws IOException {
    Path t = tmp.resolve("run");
    AtomicDir.save(t, "test-kind", false, null, content("1"));
    assertEquals("1", tagOf(t));
    AtomicDir.save(t, "test-kind", false, null, content("2"));
    assertEquals("2", tagOf(t));
    assertEquals(List.of("run"), siblings(), "no temporary folders left");
    assertEquals("test-kind", Manifest.kindOf(t));
  }

  @Test
  void verifyNamesTruncatedChangedAndMissingFiles() throws IOException {
    Path t = tmp.resolve("run");
    AtomicDir.save(t, "k", false, null, content("x"));
    try (RandomAccessFile f = new RandomAccessFile(t.resolve("sub/b.txt").toFile(), "rw")) { f.setLength(10); }
    ChiveException e = assertThrows(ChiveException.class, () -> Manifest.verify(t));
    assertTrue(e.getMessage().contains("b.txt") && e.getMessage().contains("truncated"), e.getMessage());
    AtomicDir.save(t, "k", false, null, content("y"));
    Files.writeString(t.resolve("a.txt"), "alpha z"); // same size, other bytes
    e = assertThrows(ChiveException.class, () -> Manifest.verify(t));
    assertTrue(e.getMessage().contains("a.txt") && e.getMessage().contains("changed"), e.getMessage());
    Files.delete(t.resolve("a.txt"));
    e = assertThrows(ChiveException.class, () -> Manifest.verify(t));
    assertTrue(e.getMessage().contains("a.txt") && e.getMessage().contains("missing"), e.getMessage());
  }

  @Test
  void aLinkAsTargetIsRefusedAndItsTargetUntouched() throws IOException {
    Path real = Files.createDirectories(tmp.resolve("precious"));
    Files.writeString(real.resolve("data.txt"), "keep me");
    Path link = Files.createSymbolicLink(tmp.resolve("run"), real);
    ChiveException e = assertThrows(ChiveException.class, () -> AtomicDir.save(link, "k", false, null, content("1")));
    assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
    assertThrows(ChiveException.class, () -> AtomicDir.save(link, "k", true, null, content("1")), "even with overwrite");
    assertEquals("keep me", Files.readString(real.resolve("data.txt")));
    assertTrue(Files.isSymbolicLink(link));
  }

  @Test
  void replacingASaveThatHoldsALinkRemovesOnlyTheLink() throws IOException {
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Files.writeString(outside.resolve("data.txt"), "keep me");
    Path t = tmp.resolve("run");
    AtomicDir.save(t, "k", false, null, content("1"));
    Files.createSymbolicLink(t.resolve("link-to-outside"), outside);
    Files.createSymbolicLink(t.resolve("sub/file-link"), outside.resolve("data.txt"));
    AtomicDir.save(t, "k", false, null, content("2"));
    assertEquals("2", tagOf(t));
    assertEquals("keep me", Files.readString(outside.resolve("data.txt")));
    AtomicDir.deleteTree(t);
    assertFalse(Files.exists(t));
    assertEquals("keep me", Files.readString(outside.resolve("data.txt")));
  }

  @Test
  void aSaveCannotContainLinks() throws IOException {
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Path t = tmp.resolve("run");
    ChiveException e = assertThrows(ChiveException.class,
        () -> AtomicDir.save(t, "k", false, null, d -> Files.createSymbolicLink(d.resolve("l"), outside)));
    assertTrue(e.getMessage().contains("symbolic links"), e.getMessage());
    assertFalse(Files.exists(t));
    assertEquals(List.of("outside"), siblings(), "the failed save left nothing");
  }

  @Test
  void foreignFoldersAndFilesAreReplacedOnlyWhenAsked() throws IOException {
    Path folder = Files.createDirectories(tmp.resolve("photos"));
    Files.writeString(folder.resolve("cat.jpg"), "meow");
    ChiveException e = assertThrows(ChiveException.class, () -> AtomicDir.save(folder, "k", false, null, content("1")));
    assertTrue(e.getMessage().contains("not a chive k folder"), e.getMessage());
    assertEquals("meow", Files.readString(folder.resolve("cat.jpg")));

    Path file = tmp.resolve("notes.txt");
    Files.writeString(file, "my notes");
    e = assertThrows(ChiveException.class, () -> AtomicDir.save(file, "k", false, null, content("1")));
    assertTrue(e.getMessage().contains("is a file"), e.getMessage());
    assertEquals("my notes", Files.readString(file));

    Path other = tmp.resolve("other");
    AtomicDir.save(other, "kind-a", false, null, content("1"));
    e = assertThrows(ChiveException.class, () -> AtomicDir.save(other, "kind-b", false, null, content("2")));
    assertTrue(e.getMessage().contains("holds a kind-a"), e.getMessage());

    Path legacy = Files.createDirectories(tmp.resolve("legacy"));
    Files.writeString(legacy.resolve("old-format.json"), "{}");
    AtomicDir.save(legacy, "k", false, d -> Files.exists(d.resolve("old-format.json")), content("1"));
    assertEquals("1", tagOf(legacy));

    Path empty = Files.createDirectories(tmp.resolve("empty"));
    AtomicDir.save(empty, "k", false, null, content("1"));
    assertEquals("1", tagOf(empty));

    AtomicDir.save(folder, "k", true, null, content("2"));
    AtomicDir.save(file, "k", true, null, content("3"));
    assertEquals("2", tagOf(folder));
    assertEquals("3", tagOf(file));
  }

  /** A crash after each step of the swap, with and without a previous save: recovery gives one of the two, whole. */
  @Test
  void aCrashAfterAnyStepLeavesTheOldOrTheNewFolder() throws IOException {
    for (boolean previous : new boolean[] {true, false}) {
      for (AtomicDir.Step step : AtomicDir.Step.values()) {
        Path t = tmp.resolve("run-" + previous + "-" + step);
        if (previous) AtomicDir.save(t, "k", false, null, content("old"));
        AtomicDir.save(t, "k", false, null, content("new"), step);
        AtomicDir.Recovery r = AtomicDir.recover(t);
        String what = "previous " + previous + ", crash after " + step + ": " + r;
        if (!previous && step.compareTo(AtomicDir.Step.COMPLETE) < 0) {
          assertFalse(Files.exists(t), what);
        } else {
          String tag = tagOf(t);
          // Before the new folder is complete the old one must remain; after the swap, the new one.
          if (step.compareTo(AtomicDir.Step.COMPLETE) < 0) assertEquals("old", tag, what);
          else if (step.compareTo(AtomicDir.Step.NEW_MOVED) >= 0) assertEquals("new", tag, what);
          else if (step == AtomicDir.Step.OLD_MOVED) assertEquals("new", tag, what + " (the complete new folder is preferred)");
          else assertTrue(tag.equals("old") || tag.equals("new"), what);
        }
        try (Stream<Path> s = Files.list(tmp)) {
          List<String> left = s.map(p -> p.getFileName().toString())
              .filter(n -> n.startsWith("." + t.getFileName() + ".chive-") && !n.endsWith("-lock")).collect(Collectors.toList());
          assertEquals(List.of(), left, what + ": leftovers cleaned");
        }
        // and the next save works normally
        AtomicDir.save(t, "k", false, null, content("next"));
        assertEquals("next", tagOf(t));
      }
    }
  }

  @Test
  void severalCrashedSavesRecoverTheNewestCompleteOne() throws IOException {
    Path t = tmp.resolve("run");
    AtomicDir.save(t, "k", false, null, content("0"));
    AtomicDir.save(t, "k", false, null, content("1"), AtomicDir.Step.OLD_MOVED);
    // a second process finds the target missing: its save recovers first, then replaces
    AtomicDir.save(t, "k", false, null, content("2"), AtomicDir.Step.WRITTEN);
    AtomicDir.recover(t);
    assertEquals("1", tagOf(t));
  }

  @Test
  void aWriterThatFailsLeavesThePreviousSave() throws IOException {
    Path t = tmp.resolve("run");
    AtomicDir.save(t, "k", false, null, content("old"));
    assertThrows(IOException.class, () -> AtomicDir.save(t, "k", false, null, d -> {
      Files.writeString(d.resolve("a.txt"), "half");
      throw new IOException("disk full");
    }));
    assertEquals("old", tagOf(t));
    assertEquals(List.of("run"), siblings());
  }

  @Test
  void recoveryIgnoresAnIncompleteNewFolderWhenTheTargetIsGone() throws IOException {
    Path t = tmp.resolve("run");
    AtomicDir.save(t, "k", false, null, content("old"));
    AtomicDir.save(t, "k", false, null, content("new"), AtomicDir.Step.OLD_MOVED);
    // corrupt the complete new folder: recovery must fall back to the old one
    try (Stream<Path> s = Files.list(tmp)) {
      Path newDir = s.filter(p -> p.getFileName().toString().contains(".chive-tmp-")).findFirst().orElseThrow();
      Files.write(newDir.resolve("a.txt"), "alpha broken".getBytes(StandardCharsets.UTF_8));
    }
    AtomicDir.Recovery r = AtomicDir.recover(t);
    assertEquals("old", r.restored);
    assertEquals("old", tagOf(t));
  }
}
