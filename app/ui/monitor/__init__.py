"""Live monitoring of jobs: progress, KPIs, TensorBoard charts, GPU and container plots.

For a job page::

    from app.ui.monitor.job_monitor_panel import JobMonitorPanel

    panel = JobMonitorPanel(job, context.manager.session, jobs=context)   # add it to a layout or tab
    ...
    panel.shutdown()                                                        # when the page closes

For the jobs table's Progress column::

    from app.ui.monitor.progress_feed import JobProgressFeed

    feed = JobProgressFeed(context, context.manager.session, parent=jobs_page)
    feed.attach(jobs_page.model)                                             # provider + repaints
"""
