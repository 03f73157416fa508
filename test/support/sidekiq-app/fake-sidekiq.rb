# A stand-in for Sidekiq versions other than the installed 6.4.1: it titles itself the way that
# version does and answers signals like it. Used in addition to, never instead of, real Sidekiq.
#   FAKE_VERSION      e.g. 4.2.10, 5.2.9, 7.2.4
#   FAKE_TAG          the tag; unset = nil, which Sidekiq's `compact.join(" ")` drops (one space)
#   FAKE_CONCURRENCY  default 5
#   FAKE_BUSY         jobs running at start, each lasting FAKE_JOB_SECONDS (default 2)
#   FAKE_BEAT         heartbeat seconds (default 0.5)
#   FAKE_SIGNAL_LOG   file that gets one line per signal received
version = ENV.fetch('FAKE_VERSION')
major = version.to_i
tag = ENV['FAKE_TAG']
concurrency = Integer(ENV.fetch('FAKE_CONCURRENCY', '5'))
job_ends = Array.new(Integer(ENV.fetch('FAKE_BUSY', '0'))) { Time.now + Float(ENV.fetch('FAKE_JOB_SECONDS', '2')) }
beat = Float(ENV.fetch('FAKE_BEAT', '0.5'))
log = ENV.fetch('FAKE_SIGNAL_LOG')
$stopping = false
$exit = false

record = ->(sig) { File.write(log, "#{sig}\n", mode: 'a') }
quiet = ->(sig) { record.(sig); $stopping = true }
# Sidekiq 4 quiets on USR1; TSTP came in 4.2.9 (before it, TSTP stops the process, like any program).
# Sidekiq 5 quiets on TSTP and still on USR1; Sidekiq 6, 7 and 8 quiet on TSTP and die on USR1.
if major < 5
  trap('USR1') { quiet.('USR1') }
  trap('TSTP') { quiet.('TSTP') } if Gem::Version.new(version) >= Gem::Version.new('4.2.9')
else
  trap('TSTP') { quiet.('TSTP') }
  trap('USR1') { quiet.('USR1') } if major == 5
end
trap('TERM') { record.('TERM'); $stopping = true; $exit = true }

loop do
  job_ends.reject! { |t| t <= Time.now }
  $0 = ['sidekiq', version, tag, "[#{job_ends.size} of #{concurrency} busy]", ('stopping' if $stopping)].compact.join(' ')
  exit(0) if $exit && job_ends.empty?
  sleep beat
end
