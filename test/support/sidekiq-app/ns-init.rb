# PID 1 of a test "host" (a PID namespace made by `unshare -p -f --mount-proc`): it reaps orphans
# (like init does) and exits when its stdin closes, i.e. when the test process that started it is
# gone, however it died. The kernel then kills every process left in the namespace: nothing leaks.
Thread.new do
  $stdin.read
  exit!(0)
end
loop do
  Process.wait(-1)
rescue Errno::ECHILD
  sleep 0.1
end
