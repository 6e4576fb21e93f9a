package chive.core.store;

import chive.core.sim.ChiveException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * Folders replaced as one unit: a crash (kill -9, power loss after the OS
 * flushed, an exception) at any instant leaves at {@code target} either the
 * previous folder or the new one, complete, and never deletes anything
 * outside the folder being replaced.
 *
 * <p>The protocol, for target {@code D/NAME}; every step is one of {@link Step}:
 * <ol>
 *   <li>write the new content into the sibling {@code D/.NAME.chive-tmp-ID};
 *   <li>write its {@link Manifest} (size and CRC32C of every file) last, then
 *       flush every file and the folder to disk: only now is the new folder complete;
 *   <li>rename {@code D/NAME} to {@code D/.NAME.chive-old-ID} (same ID);
 *   <li>rename the new folder to {@code D/NAME};
 *   <li>delete the old folder.
 * </ol>
 * {@link #recover} finishes or undoes a swap that a crash interrupted: when
 * {@code NAME} is missing it moves the newest complete new folder (else the
 * newest old one that verifies) into place, and it deletes leftovers. Saving
 * and loading call it first. One writer per target: saves of the same target
 * are serialised within a JVM and across processes by a lock on the hidden
 * file {@code D/.NAME.chive-lock} (left in place: removing a lock file races).
 *
 * <p>Safety rules: nothing is ever deleted through a symbolic link (links are
 * removed as links); a target that is a link is refused; a target that is not
 * a chive folder of the same kind (a regular file, or a non-empty folder
 * without a manifest) is replaced only when the caller says {@code overwrite}.
 */
public final class AtomicDir {
  private AtomicDir() {}

  /** Writes the folder's content into {@code dir} (an empty folder). */
  public interface Writer {
    void write(Path dir) throws IOException;
  }

  /** The steps of a save, in order; {@link #save(Path, String, boolean, Predicate, Writer, Step)} can stop after one. */
  public enum Step { CREATED, WRITTEN, COMPLETE, OLD_MOVED, NEW_MOVED, OLD_DELETED }

  private static final String TMP = ".chive-tmp-";
  private static final String OLD = ".chive-old-";
  private static final ConcurrentHashMap<Path, ReentrantLock> LOCKS = new ConcurrentHashMap<>();

  /** The kind of a chive folder that predates manifests, or accepts {@code dir}; may be null. */
  public static Path save(Path target, String kind, boolean overwrite, Predicate<Path> legacyOfKind, Writer writer)
      throws IOException {
    return save(target, kind, overwrite, legacyOfKind, writer, null);
  }

  /**
   * Replaces {@code target} by a folder of {@code kind} that {@code writer}
   * fills. Returns the target's absolute path.
   *
   * @param overwrite     replace a target that is not a chive folder of this kind
   * @param legacyOfKind  recognises folders of this kind written before manifests existed (may be null)
   * @param stopAfter     for crash tests: return right after this step, as a killed process
   *                      would stop (no cleanup, no lock release beyond the JVM's); null for a whole save
   */
  public static Path save(Path target, String kind, boolean overwrite, Predicate<Path> legacyOfKind, Writer writer,
                          Step stopAfter) throws IOException {
    Path t = target.toAbsolutePath().normalize();
    Path parent = t.getParent();
    if (parent == null) throw new ChiveException(target + ": cannot save to the root folder");
    Files.createDirectories(parent);
    try (Locked lock = Locked.take(t)) {
      recoverLocked(t);
      checkReplaceable(t, kind, overwrite, legacyOfKind);
      String id = newId();
      Path tmp = parent.resolve("." + t.getFileName() + TMP + id);
      Path old = parent.resolve("." + t.getFileName() + OLD + id);
      boolean done = false;
      try {
        Files.createDirectory(tmp);
        if (stopAfter == Step.CREATED) { done = true; return t; }
        writer.write(tmp);
        if (stopAfter == Step.WRITTEN) { done = true; return t; }
        Manifest.write(tmp, kind);
        if (stopAfter == Step.COMPLETE) { done = true; return t; }
        boolean hadOld = Files.exists(t, LinkOption.NOFOLLOW_LINKS);
        if (hadOld) move(t, old);
        if (stopAfter == Step.OLD_MOVED) { done = true; return t; }
        move(tmp, t);
        syncDir(parent);
        done = true;
        if (stopAfter == Step.NEW_MOVED) return t;
        if (hadOld) deleteTree(old);
        return t;
      } finally {
        if (!done) {
          // An exception (not a crash): put the previous folder back if it moved, drop the new one.
          try {
            if (!Files.exists(t, LinkOption.NOFOLLOW_LINKS) && Files.exists(old, LinkOption.NOFOLLOW_LINKS)) move(old, t);
            deleteTree(tmp);
          } catch (IOException | RuntimeException e) {
            // recover() finishes the job next time
          }
        }
      }
    }
  }

  /** What {@link #recover} found and did, for messages and tests. */
  public static final class Recovery {
    public final String restored;   // "new", "old" or null
    public final int removed;       // leftover folders deleted
    Recovery(String restored, int removed) { this.restored = restored; this.removed = removed; }
    @Override public String toString() { return "restored " + restored + ", removed " + removed; }
  }

  /**
   * Finishes a swap a crash interrupted and removes leftover temporary
   * folders of {@code target}. A no-op (no lock taken) when nothing is left over.
   */
  public static Recovery recover(Path target) throws IOException {
    Path t = target.toAbsolutePath().normalize();
    if (t.getParent() == null || !Files.isDirectory(t.getParent())) return new Recovery(null, 0);
    if (leftovers(t).isEmpty()) return new Recovery(null, 0);
    try (Locked lock = Locked.take(t)) {
      return recoverLocked(t);
    }
  }

  private static Recovery recoverLocked(Path t) throws IOException {
    List<Path> left = leftovers(t);
    if (left.isEmpty()) return new Recovery(null, 0);
    String restored = null;
    if (!Files.exists(t, LinkOption.NOFOLLOW_LINKS)) {
      Path best = null;
      // Newest complete new folder first (the swap was about to finish), else the newest old one.
      for (String marker : new String[] {TMP, OLD}) {
        for (Path p : left) {
          String n = p.getFileName().toString();
          if (!n.contains(marker) || !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) continue;
          if (!Manifest.isComplete(p) && !(marker.equals(OLD) && !Files.exists(p.resolve(Manifest.FILE)))) continue;
          if (best == null || idOf(p).compareTo(idOf(best)) > 0) best = p;
        }
        if (best != null) {
          restored = marker.equals(TMP) ? "new" : "old";
          break;
        }
      }
      if (best != null) {
        move(best, t);
        syncDir(t.getParent());
        left.remove(best);
      }
    }
    int removed = 0;
    for (Path p : left) {
      deleteTree(p);
      removed++;
    }
    return new Recovery(restored, removed);
  }

  private static List<Path> leftovers(Path t) throws IOException {
    List<Path> out = new ArrayList<>();
    String prefix = "." + t.getFileName();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(t.getParent(), prefix + ".chive-*")) {
      for (Path p : ds) {
        String n = p.getFileName().toString();
        if (n.startsWith(prefix + TMP) || n.startsWith(prefix + OLD)) out.add(p);
      }
    }
    return out;
  }

  private static String idOf(Path p) {
    String n = p.getFileName().toString();
    int k = Math.max(n.lastIndexOf(TMP), n.lastIndexOf(OLD));
    return n.substring(k + TMP.length());
  }

  private static String newId() {
    return String.format("%013d-%08x", System.currentTimeMillis(), ThreadLocalRandom.current().nextInt());
  }

  /**
   * The kind recorded in {@code dir}'s manifest; "legacy" for a folder that
   * {@code legacyOfKind} recognises; "empty" for an empty folder; null otherwise.
   */
  public static String kindOf(Path dir, Predicate<Path> legacyOfKind) throws IOException {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return null;
    if (Files.exists(dir.resolve(Manifest.FILE), LinkOption.NOFOLLOW_LINKS)) return Manifest.kindOf(dir);
    if (legacyOfKind != null && legacyOfKind.test(dir)) return "legacy";
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      return ds.iterator().hasNext() ? null : "empty";
    }
  }

  private static void checkReplaceable(Path t, String kind, boolean overwrite, Predicate<Path> legacyOfKind)
      throws IOException {
    if (Files.isSymbolicLink(t)) {
      String to;
      try { to = String.valueOf(Files.readSymbolicLink(t)); } catch (IOException e) { to = "?"; }
      throw new ChiveException(t + " is a symbolic link (to " + to + "); chive does not save through links, "
          + "so that replacing a save can never delete what a link points to: save to the link's target itself");
    }
    if (!Files.exists(t, LinkOption.NOFOLLOW_LINKS) || overwrite) return;
    if (!Files.isDirectory(t, LinkOption.NOFOLLOW_LINKS)) {
      throw new ChiveException(t + " exists and is a file, not a chive " + kind
          + " folder; refusing to replace it (pass overwrite to replace it, or choose another path)");
    }
    String k;
    try {
      k = kindOf(t, legacyOfKind);
    } catch (ChiveException e) {
      throw new ChiveException(t + " has an unreadable chive manifest (" + e.getMessage()
          + "); refusing to replace it (pass overwrite to replace it)", e);
    }
    if (k == null) {
      throw new ChiveException(t + " exists and is not a chive " + kind + " folder (no " + Manifest.FILE
          + "); refusing to replace what it holds (pass overwrite to replace it, or choose another path)");
    }
    if (!k.equals(kind) && !k.equals("legacy") && !k.equals("empty")) {
      throw new ChiveException(t + " holds a " + k + ", not a " + kind
          + "; refusing to replace it (pass overwrite to replace it, or choose another path)");
    }
  }

  /** Renames atomically within one folder. */
  static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      throw new ChiveException("cannot rename " + from + " to " + to + " atomically on this file system", e);
    } catch (FileAlreadyExistsException e) {
      throw new ChiveException("cannot rename " + from + " to " + to + ": " + to + " appeared meanwhile "
          + "(another process saving to the same place?)", e);
    }
  }

  /** Flushes a folder's entries to disk (best effort: not every platform can open a folder). */
  static void syncDir(Path dir) {
    try (FileChannel c = FileChannel.open(dir, StandardOpenOption.READ)) {
      c.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // not supported here; the renames are still atomic
    }
  }

  /**
   * Deletes {@code p} and, if it is a real folder, everything under it. A
   * symbolic link anywhere (including {@code p} itself) is removed as a link;
   * what it points to is never touched. A missing {@code p} is not an error.
   */
  public static void deleteTree(Path p) throws IOException {
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return;
    }
    if (a.isDirectory() && !a.isSymbolicLink()) {
      List<Path> children = new ArrayList<>();
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
        for (Path c : ds) children.add(c);
      }
      for (Path c : children) deleteTree(c);
    }
    Files.deleteIfExists(p);
  }

  /** The in-JVM lock and the cross-process file lock of one target. */
  private static final class Locked implements AutoCloseable {
    final ReentrantLock jvm;
    final FileChannel ch;
    final FileLock lock;

    private Locked(ReentrantLock jvm, FileChannel ch, FileLock lock) {
      this.jvm = jvm;
      this.ch = ch;
      this.lock = lock;
    }

    static Locked take(Path t) throws IOException {
      ReentrantLock l = LOCKS.computeIfAbsent(t, k -> new ReentrantLock());
      l.lock();
      FileChannel ch = null;
      try {
        Path lf = t.getParent().resolve("." + t.getFileName() + ".chive-lock");
        ch = FileChannel.open(lf, StandardOpenOption.CREATE, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
        FileLock fl = ch.lock();
        return new Locked(l, ch, fl);
      } catch (IOException | RuntimeException e) {
        if (ch != null) try { ch.close(); } catch (IOException ignored) { }
        l.unlock();
        throw e;
      }
    }

    @Override public void close() throws IOException {
      try {
        lock.release();
        ch.close();
      } finally {
        jvm.unlock();
      }
    }
  }
}
