package chive.spark;

import chive.testing.ClojureTestBridge;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

/** Every clojure.test suite under spark/src/test/clojure (the :spark sweep engine), as JUnit 5 dynamic tests. */
class SparkClojureTests {
  @TestFactory
  List<DynamicNode> clojureTests() {
    String dir = System.getProperty("chive.clojure.test.dir", "src/test/clojure");
    return ClojureTestBridge.nodes(ClojureTestBridge.discoverNamespaces(Path.of(dir)));
  }
}
