# A stand-in for Sidekiq versions other than the installed 6.4.1: it titles itself, beats, names its
# job threads and answers signals the way that version does. Used in addition to, never instead of,
# real Sidekiq. What each version does, as read in sidekiq/sidekiq at tags v4.2.8, v4.2.9, v4.2.10,
# v5.0.0, v5.2.10, v6.0.0, v6.5.12, v7.0.0, v7.3.9, v8.0.0, v8.1.7:
# - Title, at every heartbeat (launcher.rb `heartbeat`/`beat`; PROCTITLES in cli.rb up to 5.x, in
#   launcher.rb from 6.0): [ "sidekiq", VERSION, data["tag"], "[#{busy} of #{concurrency} busy]",
#   ("stopping" if stopping?) ].compact.join(" "), where data["tag"] is `options[:tag] || ""` in every
#   version from 4.2 to 8.1: no tag gives an empty word, so two spaces before "[" (never one).
#   busy is the jobs running now (WORKER_STATE / WORK_STATE size); concurrency is the option (7.x/8.x:
#   total_concurrency, the sum over capsules). stopping? is true once quiet (TSTP) or stopping (TERM).
# - Heartbeat: `sleep 5` in 4.x/5.x, BEAT_PAUSE = 5 in 6.x, BEAT_PAUSE = 10 in 7.x and 8.x. The first
#   beat comes as the launcher starts.
# - Signals (cli.rb): 4.2.8 traps INT TERM USR1 USR2 TTIN (USR1 quiets; TSTP is not trapped and stops
#   the process, as for any program); 4.2.9-5.x add TSTP, and both TSTP and USR1 quiet; from 6.0
#   INT TERM TTIN TSTP only (USR2 with Pro): USR1 is not trapped and kills the process.
# - Job threads (safe_thread("processor") in processor.rb; one per concurrency slot, each ending
#   after its job once quiet): unnamed in 5.x (Ruby names them by file:line), "processor" in 6.x,
#   "default/processor" in 7.0 (capsule name), "sidekiq.default/processor" from 7.1.0 (component.rb
#   safe_thread: `Thread.current.name = "sidekiq.#{name}"`; Linux keeps 15 bytes of a thread name),
#   beside "sidekiq.heartbeat" (launcher.rb) and "sidekiq.scheduler" (scheduled.rb).
#   FAKE_VERSION      e.g. 4.2.10, 5.2.10, 7.3.9, 8.1.7
#   FAKE_TAG          the -g tag (default: none, an empty word)
#   FAKE_CONCURRENCY  default 5
#   FAKE_BUSY         jobs running at start, each lasting FAKE_JOB_SECONDS (default 2)
#   FAKE_BEAT         heartbeat seconds (default: the version's own, 5 or 10)
#   FAKE_SIGNAL_LOG   file that gets one line per signal received
version = ENV.fetch('FAKE_VERSION')
gem_version = Gem::Version.new(version.sub(/[a-z].*/i, '')) # 7beta1 -> 7
major = version.to_i
tag = ENV.fetch('FAKE_TAG', '')
concurrency = Integer(ENV.fetch('FAKE_CONCURRENCY', '5'))
job_seconds = Float(ENV.fetch('FAKE_JOB_SECONDS', '2'))
busy_at_start = Integer(ENV.fetch('FAKE_BUSY', '0'))
beat = Float(ENV.fetch('FAKE_BEAT', major >= 7 ? '10' : '5'))
log = ENV.fetch('FAKE_SIGNAL_LOG')
$stopping = false
$exit = false

record = ->(sig) { File.write(log, "#{sig}\n", mode: 'a') }
quiet = ->(sig) { record.(sig); $stopping = true }
trap('USR1') { quiet.('USR1') } if major < 6
trap('TSTP') { quiet.('TSTP') } if gem_version >= Gem::Version.new('4.2.9')
trap('TERM') { record.('TERM'); $stopping = true; $exit = true }

thread_name =
  if major == 6 then 'processor'
  elsif gem_version >= Gem::Version.new('7.1') then 'sidekiq.default/processor'
  elsif major == 7 then 'default/processor'
  end
# 7.1+: the heartbeat and scheduler threads carry the same `sidekiq.` prefix; they never end on quiet.
if gem_version >= Gem::Version.new('7.1')
  %w[sidekiq.heartbeat sidekiq.scheduler].each { |n| Thread.new { Thread.current.name = n; sleep } }
end
running = Array.new(concurrency) { |i| i < busy_at_start }
processors = Array.new(concurrency) do |i|
  Thread.new do
    Thread.current.name = thread_name if thread_name
    if running[i]
      sleep job_seconds
      running[i] = false
    end
    sleep 0.05 until $stopping
  end
end

loop do
  $0 = ['sidekiq', version, tag, "[#{running.count(true)} of #{concurrency} busy]", ('stopping' if $stopping)].compact.join(' ')
  exit(0) if $exit && processors.none?(&:alive?)
  sleep beat
end
