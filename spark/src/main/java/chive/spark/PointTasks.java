package chive.spark;

import clojure.java.api.Clojure;
import clojure.lang.IFn;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkContext;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import scala.collection.Iterator;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction2;
import scala.runtime.BoxedUnit;

/**
 * Sweep points as Spark tasks: one partition per point, each holding one
 * line "index TAB parameters-as-EDN". The task requires chive.sweep on the
 * executor and calls {@code chive.sweep/run-point-edn}, which requires the
 * experiment's namespace and calls its var: only text crosses the process
 * boundary, never a closure. A throwing point throws out of the task (so
 * Spark retries it) except on the task's last allowed attempt, where the
 * error is recorded as the point's result. The driver receives each
 * partition's result once, as it finishes (SparkContext.runJob's result
 * handler), however many attempts or speculative copies ran.
 */
public final class PointTasks {
  private PointTasks() {}

  /** Called on the driver with (point index, record EDN) for each finished point. */
  public interface Sink {
    void accept(long index, String recordEdn);
  }

  /** The task: runs the partition's one point. Serializable; holds only strings and an int. */
  static final class Task extends AbstractFunction2<TaskContext, Iterator<String>, String> implements Serializable {
    private static final long serialVersionUID = 1L;
    private final String experiment;
    private final int maxFailures;

    Task(String experiment, int maxFailures) {
      this.experiment = experiment;
      this.maxFailures = maxFailures;
    }

    @Override
    public String apply(TaskContext ctx, Iterator<String> it) {
      if (!it.hasNext()) throw new IllegalStateException("chive sweep: an empty partition (expected one point)");
      String line = it.next();
      if (it.hasNext()) throw new IllegalStateException("chive sweep: a partition with more than one point");
      int tab = line.indexOf('\t');
      long index = Long.parseLong(line.substring(0, tab));
      boolean last = ctx.attemptNumber() + 1 >= maxFailures;
      // requiring-resolve loads under Clojure's require lock: tasks start side by side in
      // one executor, and two plain `require`s of the same namespaces race (measured:
      // "IllegalAccessError: i? does not exist" from a half-loaded cheshire)
      IFn run = (IFn) ((clojure.lang.Var) Clojure.var("clojure.core", "requiring-resolve")
          .invoke(Clojure.read("chive.sweep/run-point-edn"))).deref();
      Object rec = run.invoke(experiment, index, line.substring(tab + 1), last);
      return (String) rec;
    }
  }

  /** The driver side's handler (never serialised). */
  static final class Handler extends AbstractFunction2<Object, String, BoxedUnit> {
    private final List<Long> indices;
    private final Sink sink;

    Handler(List<Long> indices, Sink sink) {
      this.indices = indices;
      this.sink = sink;
    }

    @Override
    public BoxedUnit apply(Object partition, String rec) {
      sink.accept(indices.get((Integer) partition), rec);
      return BoxedUnit.UNIT;
    }
  }

  /**
   * Runs the points (indices[k], paramsEdn[k]) of experiment `experiment`
   * (a fully qualified symbol's name) as one Spark job of one task per
   * point; blocks until all finished. maxFailures: the attempts Spark allows
   * a task (spark.task.maxFailures; 1 for local[N]).
   */
  public static void run(JavaSparkContext jsc, String experiment, List<Long> indices, List<String> paramsEdn,
                         int maxFailures, Sink sink) {
    if (indices.size() != paramsEdn.size()) throw new IllegalArgumentException("indices and parameters differ in length");
    int n = indices.size();
    if (n == 0) return;
    List<String> lines = new ArrayList<>(n);
    for (int k = 0; k < n; k++) lines.add(indices.get(k) + "\t" + paramsEdn.get(k));
    JavaRDD<String> rdd = jsc.parallelize(lines, n);
    SparkContext sc = jsc.sc();
    ClassTag<String> tag = ClassTag$.MODULE$.apply(String.class);
    sc.runJob(rdd.rdd(), new Task(experiment, maxFailures), new Handler(indices, sink), tag);
  }
}
