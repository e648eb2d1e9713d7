"""AutoML screens: the study set-up dialog (``study_dialog.open_study_setup``) and the live study page."""
