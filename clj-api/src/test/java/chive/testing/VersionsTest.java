package chive.testing;

import static org.junit.jupiter.api.Assertions.*;

import clojure.java.api.Clojure;
import org.junit.jupiter.api.Test;

/**
 * The Clojure and Jackson that Surefire actually loaded are the versions the
 * pom names, not Debian's (which the nREPL and Cheshire jars' manifest
 * Class-Path would drag in if they came first on the classpath).
 */
class VersionsTest {
  private static String expected(String key) {
    String v = System.getProperty(key);
    assertNotNull(v, "Surefire should set system property " + key + " from the pom");
    return v;
  }

  @Test
  void clojureIsThePomsVersion() {
    Object version = Clojure.var("clojure.core", "clojure-version").invoke();
    assertEquals(expected("chive.expected.clojure"), version);
    String from = clojure.lang.RT.class.getProtectionDomain().getCodeSource().getLocation().toString();
    assertFalse(from.contains("/usr/share/java"), "Clojure loaded from Debian's jar: " + from);
  }

  @Test
  void jacksonIsThePomsVersion() {
    assertEquals(expected("chive.expected.jackson"),
        com.fasterxml.jackson.core.json.PackageVersion.VERSION.toString());
    assertEquals(expected("chive.expected.jackson"),
        com.fasterxml.jackson.dataformat.smile.PackageVersion.VERSION.toString());
    assertEquals(expected("chive.expected.jackson"),
        com.fasterxml.jackson.dataformat.cbor.PackageVersion.VERSION.toString());
  }
}
