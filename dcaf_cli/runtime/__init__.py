"""The agent runtime: `Agent` and custom agent functions, the turn loop and tool
execution, interceptors, results and events, loading agents from files or modules, the DCAF
import stand-ins, the coroutine runner, and the remote (HelpDesk) agent.
"""
