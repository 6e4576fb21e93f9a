package chive.core.sim;

/** Bad input or an impossible request; the message names the problem and the value. */
public class ChiveException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  public ChiveException(String message) { super(message); }
  public ChiveException(String message, Throwable cause) { super(message, cause); }
}
