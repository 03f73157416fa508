# The Sidekiq app the tests and benchmarks run under real Sidekiq (Debian ruby-sidekiq 6.4.1).
# SleepJob sleeps, then writes a marker; the harness counts jobs by these markers and by Redis.
#   MARKER_DIR        where <jid>.started / <jid>.done go (JSON: pid, time)
#   SIDEKIQ_BEAT_PAUSE  heartbeat in seconds; unset = Sidekiq's real 5 s
require 'sidekiq'
require 'json'

Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)

if (beat = ENV['SIDEKIQ_BEAT_PAUSE']) && !beat.empty?
  # The title and the Redis process record refresh per heartbeat; a short one makes tests fast.
  Sidekiq::Launcher.send(:remove_const, :BEAT_PAUSE)
  Sidekiq::Launcher::BEAT_PAUSE = Float(beat)
end

MARKER_DIR = ENV.fetch('MARKER_DIR')

class SleepJob
  include Sidekiq::Worker

  def perform(seconds)
    mark('started')
    sleep(Float(seconds))
    mark('done')
  end

  private

  def mark(what)
    path = File.join(MARKER_DIR, "#{jid}.#{what}")
    File.write("#{path}.tmp", JSON.generate(pid: Process.pid, time: Time.now.to_f))
    File.rename("#{path}.tmp", path) # atomic: a reader never sees half a marker
  end
end

# A job that renames its thread, as some jobs and middleware do: its thread no longer carries
# Sidekiq's name while it runs.
class RenameJob < SleepJob
  def perform(seconds)
    Thread.current.name = 'renamed-by-job'
    super
  end
end

# A CPU-bound job: it holds the GVL for `seconds`, so Sidekiq's own threads (heartbeat, fetch) run late.
class CpuJob < SleepJob
  def perform(seconds)
    mark('started')
    stop_at = Process.clock_gettime(Process::CLOCK_MONOTONIC) + Float(seconds)
    n = 0
    n += 1 while Process.clock_gettime(Process::CLOCK_MONOTONIC) < stop_at
    mark('done')
  end
end

# An extension's word after "[N of M busy]", as Sidekiq Enterprise appends `leader` (PROCTITLES is a
# public extension point; Sidekiq's own tests add one).
if (extra = ENV['SIDEKIQ_PROCTITLE_EXTRA']) && !extra.empty?
  Sidekiq::Launcher::PROCTITLES << proc { extra }
end
