# Uptime and load averages, the classic CoffeeScript way.
command: "uptime"

refreshFrequency: 30000

style: """
  top: 200px
  left: 24px
  color: #fff
  font-family: Menlo, monospace
  font-size: 12px

  .label
    opacity: 0.6
    text-transform: uppercase

  .value
    font-size: 18px
"""

render: -> """
  <div class="label">Up</div>
  <div class="value up"></div>
  <div class="label">Load</div>
  <div class="value load"></div>
"""

update: (output, domEl) ->
  up = output.match(/up\s+([^,]+(?:,\s*\d+:\d+)?)/)
  load = output.match(/load averages?:\s*(.*)$/)
  $(domEl).find('.up').text(if up then up[1] else '?')
  $(domEl).find('.load').text(if load then load[1] else '?')
